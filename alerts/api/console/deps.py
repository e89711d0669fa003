"""What the console reads and changes: the core's stores, rules, fetcher and clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import redis

from alerts.clock import Clock, system_clock
from alerts.delivery.store import DeliveryStore, memory_store, redis_store
from alerts.ingest.dedup import ItemArchive, MemoryItemArchive, RedisItemArchive
from alerts.ingest.fetch import Fetcher, FetchResult
from alerts.ingest.state import MemorySourceStateStore, RedisSourceStateStore, SourceStateStore
from alerts.matching import Matcher
from alerts.matching.reload import RulesWatcher
from alerts.rules import RuleSet
from alerts.settings import Settings

Fetch = Callable[[str], FetchResult]  # the SSRF-guarded fetcher: private addresses refused


@dataclass(frozen=True)
class ConsoleDeps:
    """The console's ports; ``rules()`` raises RuleSetError when no rule set is valid."""

    settings: Settings
    store: DeliveryStore
    archive: ItemArchive
    source_state: SourceStateStore
    rules: Callable[[], tuple[RuleSet, Matcher]]
    fetch: Fetch
    clock: Clock = system_clock
    cache: dict[str, object] = field(default_factory=dict)  # per-process, see views.cached


def rules_watcher(settings: Settings, clock: Clock = system_clock) -> RulesWatcher:
    """The rules as the workers see them, reloaded when the files change."""
    return RulesWatcher(
        settings.rules_dir,
        channels=list(settings.channels),
        min_interval=settings.rules_reload_seconds,
        clock=clock,
    )


def _fetcher() -> Fetch:
    fetcher = Fetcher(timeout=10.0)
    return lambda url: fetcher.fetch(url)


def redis_console(
    settings: Settings, client: redis.Redis, clock: Clock = system_clock
) -> ConsoleDeps:
    """The console of the API process, over the service's Redis."""
    retention = timedelta(days=settings.item_retention_days)
    return ConsoleDeps(
        settings=settings,
        store=redis_store(client, settings.delivery),
        archive=RedisItemArchive(client, retention),
        source_state=RedisSourceStateStore(client),
        rules=rules_watcher(settings, clock).current,
        fetch=_fetcher(),
        clock=clock,
    )


def memory_console(settings: Settings, clock: Clock = system_clock) -> ConsoleDeps:
    """A console over memory stores (unit tests)."""
    return ConsoleDeps(
        settings=settings,
        store=memory_store(),
        archive=MemoryItemArchive(timedelta(days=settings.item_retention_days)),
        source_state=MemorySourceStateStore(),
        rules=rules_watcher(settings, clock).current,
        fetch=_fetcher(),
        clock=clock,
    )
