"""Gauges read from Redis when ``/metrics`` is scraped: queue, ledger, rules, sources.

These describe shared state, not one process's work, so they are computed at scrape time
by the API (never counted in the multiprocess files, where a dead process's last value
would linger).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from alerts.clock import Clock
from alerts.delivery.ledger import FINAL, STATUSES, UNINDEXED
from alerts.delivery.redis_ledger import oldest_open
from alerts.ingest.health import RedisHealthStore
from alerts.ingest.state import RedisSourceStateStore
from alerts.observe.metrics import Collector, GaugeMetricFamily, Metric


@dataclass(frozen=True, eq=False)  # hashed by identity: the registry keys collectors
class RedisGauges(Collector):
    """A prometheus-client collector over the service's Redis."""

    client: redis.Redis
    queue: str
    ledger_prefix: str
    rules_status_key: str
    intake_key: str
    sources: Sequence[str]
    clock: Clock

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not read Redis (the names are all our own)."""
        return []

    def collect(self) -> Iterator[Metric]:
        """Every gauge; only ``alerts_redis_up`` 0 when Redis does not answer."""
        up = GaugeMetricFamily("alerts_redis_up", "Whether /metrics could read Redis.")
        try:
            found = [*self._queue(), *self._ledger(), *self._rules(), *self._sources()]
        except redis.RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from found

    def _queue(self) -> list[Metric]:
        depth = GaugeMetricFamily("alerts_queue_depth", "Task messages waiting.", labels=["queue"])
        depth.add_metric([self.queue], self.client.llen(self.queue))  # type: ignore[arg-type]
        unacked = GaugeMetricFamily("alerts_queue_unacked", "Task messages taken, not acked.")
        unacked.add_metric([], self.client.hlen("unacked"))  # type: ignore[arg-type]
        intake = GaugeMetricFamily("alerts_intake_bulletins", "Accepted bulletins not ingested.")
        intake.add_metric([], self.client.hlen(self.intake_key))  # type: ignore[arg-type]
        return [depth, unacked, intake]

    def _ledger(self) -> list[Metric]:
        rows = GaugeMetricFamily(
            "alerts_ledger_rows",
            "Delivery ledger rows by final status (dead: dead letters), and open: in flight.",
            labels=["status"],
        )  # fmt: skip
        # Final statuses have an index each but the unindexed (``sent``): those are what the
        # others leave of idx:all; rows in flight are the wake index (ledger_lua).
        p = self.ledger_prefix
        indexes: dict[str, str] = {
            s: f"{p}idx:status:{s}" for s in STATUSES if s in FINAL - UNINDEXED
        }
        indexes["open"] = f"{p}wake"
        pipe = self.client.pipeline(transaction=False)
        for key in [*indexes.values(), f"{p}idx:all"]:
            pipe.zcard(key)
        *counts, everything = pipe.execute()
        first = oldest_open(self.client, p)
        for status, count in zip(indexes, counts, strict=True):
            rows.add_metric([status], count)
        (bare,) = UNINDEXED  # one: the rest of idx:all is that status
        rows.add_metric([bare], max(0, everything - sum(counts)))
        age = GaugeMetricFamily(
            "alerts_oldest_pending_delivery_age_seconds",
            "Age of the oldest delivery not yet sent (pending, sending or retrying); 0 if none.",
        )
        now = self.clock().timestamp()
        age.add_metric([], max(0.0, now - first) if first is not None else 0.0)
        return [rows, age]

    def _rules(self) -> list[Metric]:
        raw = self.client.get(self.rules_status_key)
        status: dict[str, Any] = json.loads(raw) if raw else {}  # type: ignore[arg-type]
        info = GaugeMetricFamily(
            "alerts_ruleset_info", "The rule set the workers run (1 for its version).",
            labels=["version"],
        )  # fmt: skip
        if status.get("version"):
            info.add_metric([str(status["version"])], 1)
        watches = GaugeMetricFamily("alerts_ruleset_watches", "Watches in the active rule set.")
        watches.add_metric([], int(status.get("watches") or 0))
        failing = GaugeMetricFamily(
            "alerts_ruleset_reload_failing", "1 while the rules directory fails to load."
        )
        failing.add_metric([], 1 if status.get("last_error") else 0)
        return [info, watches, failing]

    def _sources(self) -> list[Metric]:
        states = RedisSourceStateStore(self.client)
        last_new = RedisHealthStore(self.client).all_last_new()
        failures = GaugeMetricFamily(
            "alerts_source_consecutive_failures", "Failed polls in a row.", labels=["source"]
        )
        success = GaugeMetricFamily(
            "alerts_source_last_success_timestamp_seconds", "Last good poll.", labels=["source"]
        )
        newest = GaugeMetricFamily(
            "alerts_source_last_new_item_timestamp_seconds", "Last new item.", labels=["source"]
        )
        for source in self.sources:
            state = states.get(source)
            failures.add_metric([source], state.consecutive_failures)
            if state.last_success is not None:
                success.add_metric([source], _epoch(state.last_success))
            if source in last_new:
                newest.add_metric([source], last_new[source])
        return [failures, success, newest]


def _epoch(moment: datetime) -> float:
    return moment.timestamp()
