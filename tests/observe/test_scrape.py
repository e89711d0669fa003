"""Scrape-time gauges over a real Redis: queue depth, ledger rows, oldest pending age, rules."""

from __future__ import annotations

import json
from datetime import timedelta

import redis
from prometheus_client.parser import text_string_to_metric_families

from alerts.clock import FrozenClock
from alerts.delivery import record_pending, redis_store
from alerts.ingest.health import RedisHealthStore
from alerts.ingest.state import RedisSourceStateStore, after_failure
from alerts.models import Alert, Item
from alerts.observe import metrics
from alerts.observe.scrape import RedisGauges
from tests.delivery.helpers import T0, make_deps


def scrape(client: redis.Redis, clock: FrozenClock) -> dict[tuple[str, tuple[str, ...]], float]:
    gauges = RedisGauges(
        client, queue="alerts", ledger_prefix="alerts:dlv:", rules_status_key="rules-status",
        intake_key="intake", sources=["wire"], clock=clock,
    )  # fmt: skip
    text = metrics.render(gauges)[0].decode()
    return {
        (s.name, tuple(s.labels.values())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def alert(n: int) -> Alert:
    item = Item(id=f"i{n}", source="wire", title="t")
    return Alert(watch="w", watch_name="w", item=item, hits=(), channels=("ops",))


def test_gauges_read_what_redis_holds(redis_client: redis.Redis) -> None:
    clock = FrozenClock(T0)
    deps = make_deps(clock=clock, store=redis_store(redis_client))
    record_pending(alert(1), "ops", deps=deps)
    clock.advance(seconds=30)
    record_pending(alert(2), "ops", deps=deps)
    clock.advance(seconds=70)
    redis_client.rpush("alerts", "m1", "m2", "m3")
    redis_client.set("rules-status", json.dumps({"version": "v9", "watches": 4, "last_error": "x"}))
    states = RedisSourceStateStore(redis_client)
    states.put("wire", after_failure(states.get("wire"), T0, interval=60, error="HTTP 500"))
    RedisHealthStore(redis_client).saw_new({"wire"}, T0 + timedelta(seconds=5))

    found = scrape(redis_client, clock)
    assert found[("alerts_redis_up", ())] == 1
    assert found[("alerts_queue_depth", ("alerts",))] == 3
    assert found[("alerts_ledger_rows", ("open",))] == 2  # in flight: pending, sending, retrying
    assert found[("alerts_ledger_rows", ("dead",))] == 0
    assert found[("alerts_oldest_pending_delivery_age_seconds", ())] == 100
    assert found[("alerts_ruleset_info", ("v9",))] == 1
    assert found[("alerts_ruleset_watches", ())] == 4
    assert found[("alerts_ruleset_reload_failing", ())] == 1
    assert found[("alerts_source_consecutive_failures", ("wire",))] == 1
    last_new = found[("alerts_source_last_new_item_timestamp_seconds", ("wire",))]
    assert last_new == (T0 + timedelta(seconds=5)).timestamp()


def test_redis_down_is_a_gauge_not_an_error() -> None:
    client = redis.Redis(port=1, socket_connect_timeout=0.2)  # nothing listens there
    assert scrape(client, FrozenClock(T0))[("alerts_redis_up", ())] == 0


def test_the_oldest_open_row_is_found_by_creation_not_by_wake_time(redis_client) -> None:
    """Rows in flight are the ledger's wake index, scored by wake time: the metric reads their
    creation, so a retrying row waking an hour on is still the oldest; a sent row leaves."""
    clock = FrozenClock(T0)
    deps = make_deps(clock=clock, store=redis_store(redis_client))
    ledger = deps.store.ledger
    first = record_pending(alert(1), "ops", deps=deps)
    ledger.save(first.moved("retrying", T0, wake_at=T0 + timedelta(hours=1)))
    clock.advance(seconds=30)
    record_pending(alert(2), "ops", deps=deps)
    clock.advance(seconds=10)
    ledger.save(record_pending(alert(3), "ops", deps=deps).moved("sent", clock()))
    clock.advance(seconds=60)
    found = scrape(redis_client, clock)
    assert found[("alerts_ledger_rows", ("open",))] == 2
    assert found[("alerts_ledger_rows", ("sent",))] == 1
    assert found[("alerts_oldest_pending_delivery_age_seconds", ())] == 100
    ledger.save(first.moved("sent", clock()))
    assert scrape(redis_client, clock)[("alerts_oldest_pending_delivery_age_seconds", ())] == 70
