"""Clients shared by the tasks of one worker process, created once, lazily (after fork)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import timedelta

import redis

from alerts.clock import Clock, system_clock
from alerts.delivery import DeliveryDeps, build_deps
from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore
from alerts.matching.reload import RulesWatcher
from alerts.notify import build_notifier
from alerts.settings import Settings, load_settings

RULES_STATUS_KEY = "alerts:rules:status"


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

    def publish_rules_status(self) -> None:
        """Share the reload status with the API's /healthz through Redis."""
        status = self.rules.status()
        self.redis.set(RULES_STATUS_KEY, json.dumps(status, default=str), ex=3600)


@functools.cache
def runtime() -> Runtime:
    """The process-wide runtime (one per worker child)."""
    settings = load_settings()
    client = redis.Redis.from_url(settings.redis_url or "")
    retention = timedelta(days=settings.item_retention_days)
    channels = list(settings.channels)
    return Runtime(
        settings=settings,
        redis=client,
        seen=RedisSeenStore(client, retention),
        archive=RedisItemArchive(client, retention),
        rules=RulesWatcher(
            settings.rules_dir,
            channels=channels,
            min_interval=settings.rules_reload_seconds,
            clock=system_clock,
        ),
        delivery=build_deps(settings, client, build_notifier(settings), system_clock),
        clock=system_clock,
    )
