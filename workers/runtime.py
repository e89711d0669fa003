"""Clients shared by the tasks of one worker process, created once, lazily (after fork)."""

from __future__ import annotations

import functools
import gc
import json
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

import redis

from alerts.clock import Clock, system_clock
from alerts.delivery import DeliveryDeps, NotifySpec, build_deps
from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore
from alerts.ingest.fetch import Fetcher
from alerts.ingest.health import RedisHealthStore
from alerts.ingest.intake import Intake, RedisIntake
from alerts.ingest.state import RedisSourceStateStore
from alerts.matching import Matcher
from alerts.matching.caches import set_cache_mib
from alerts.matching.published import WORKERS_KEY, PublishedRules
from alerts.matching.reload import RulesWatcher
from alerts.matching.shards import in_shard
from alerts.notify import build_notifier
from alerts.observe import metrics
from alerts.rules import RuleSet
from alerts.settings import Settings, load_settings
from alerts.source_health import OPS_WATCH

RULES_STATUS_KEY = "alerts:rules:status"


@dataclass
class Published:
    """What this process last wrote as its rules status, and when (monotonic seconds)."""

    status: dict[str, object] | None = None  # compared as a dict: no json.dumps per task
    at: float = float("-inf")


def freeze_heap() -> None:
    """Take everything alive now (a process's start-up heap) out of the cyclic GC's scans.

    A rule set is frozen by the rules watcher as it is built (``paused_gc().keep()``): 10k
    watches are millions of long-lived objects, and each full collection walked them all, a
    100-200 ms pause in the middle of a task (the bench's p99). A rule set and its matcher
    hold no reference cycles, so the one a reload replaces is freed by reference counting
    though frozen; nothing is unfrozen and collected first, which walked every object (about
    1.25 s with 100k watches) in the first task after each reload.
    """
    gc.freeze()


@dataclass(frozen=True)
class Runtime:
    """What a worker process needs: settings, Redis, stores, the rules and delivery."""

    settings: Settings
    redis: redis.Redis
    seen: RedisSeenStore
    archive: RedisItemArchive
    rules: RulesWatcher
    delivery: DeliveryDeps
    clock: Clock
    fetcher: Fetcher
    source_state: RedisSourceStateStore
    intake: Intake | None = None  # bulletins the API accepted, until ingested
    health: RedisHealthStore | None = None  # source health records (ops alerts)
    published: Published = field(default_factory=Published)
    mirror: PublishedRules | None = None  # rules_from: redis (``alerts rules push``)
    shard: int | None = None  # this worker's watch shard (``alerts worker --shard K``)

    def current_rules(self) -> tuple[RuleSet, Matcher]:
        """The rule set and matcher (RuleSetError if none is valid), status published. A new
        rule set is frozen out of the GC's scans by the rules watcher as it is built."""
        try:
            if self.mirror is not None:
                self.mirror.sync()
            ruleset, matcher = self.rules.current()
        finally:
            self.publish_rules_status()
        return ruleset, matcher

    def publish_rules_status(self) -> None:
        """Share the reload status with the API's /healthz through Redis, when it changed.

        Match tasks call this every time; the write happens only on a change, or once a
        minute so the key (kept for an hour) never lapses.
        """
        current = self.rules.status() | {"shard": self.shard}
        now = time.monotonic()
        if current == self.published.status and now - self.published.at < 60:
            return
        status = json.dumps(current, default=str)
        report = json.dumps(current | {"reported_at": self.clock().isoformat()}, default=str)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(RULES_STATUS_KEY, status, ex=3600)
            pipe.hset(
                WORKERS_KEY, f"{socket.gethostname()}:{os.getpid()}", report
            )  # every worker's version, for /healthz
            pipe.execute()
        self.published.status, self.published.at = current, now


def policy_lookup(rules: RulesWatcher) -> Callable[[str], NotifySpec | None]:
    """The notify options of a watch in the current rule set (None once the watch is gone)."""

    def lookup(watch: str) -> NotifySpec | None:
        if watch == OPS_WATCH:  # not a rule: sent even while the rules directory is broken
            return None
        ruleset, _ = rules.current()
        try:
            return ruleset.get(watch).notify
        except KeyError:
            return None

    return lookup


@functools.cache
def runtime() -> Runtime:
    """The process-wide runtime (one per worker child)."""
    settings = load_settings()
    client = settings.redis_client()
    retention = timedelta(days=settings.item_retention_days)
    mirror = None
    if settings.rules_from == "redis":
        mirror = PublishedRules(client, min_interval=settings.rules_reload_seconds)
    shard, n_shards = _shard(settings), settings.worker.shards
    set_cache_mib(settings.worker.word_cache_mib)
    rules = RulesWatcher(
        mirror.rules_dir if mirror else settings.rules_dir,
        channels=list(settings.channels),
        min_interval=settings.rules_reload_seconds,
        clock=system_clock,
        on_reload=metrics.rules_reloaded,
        keep=None if shard is None else partial(in_shard, shard=shard, shards=n_shards),
        languages=settings.worker.item_languages,
    )
    metrics.configure([src.id for src in settings.sources])
    notifier = build_notifier(
        settings.channel_map(), settings.notify, console_url=settings.console.url
    )
    return Runtime(
        settings=settings,
        redis=client,
        seen=RedisSeenStore(client, retention),
        archive=RedisItemArchive(client, retention),
        rules=rules,
        delivery=build_deps(
            settings.delivery,
            client,
            notifier,
            system_clock,
            secret_urls=settings.all_channel_urls(),
            policies=policy_lookup(rules),
            durability=settings.durability(),
        ),
        clock=system_clock,
        fetcher=Fetcher(),
        source_state=RedisSourceStateStore(client),
        intake=RedisIntake(client, settings.durability()),
        health=RedisHealthStore(client),
        mirror=mirror,
        shard=shard,
    )


def _shard(settings: Settings) -> int | None:
    """The shard this worker matches for (``alerts worker --shard K`` sets ALERTS_SHARD)."""
    raw = os.environ.get("ALERTS_SHARD")
    return int(raw) if raw is not None and settings.worker.shards > 1 else None
