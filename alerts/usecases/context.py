"""What the use cases run on: the stores, the rules, delivery, a clock and how to queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import redis

from alerts.clock import Clock
from alerts.delivery import DeliveryDeps
from alerts.handoff import Handoff, Rules
from alerts.ingest.dedup import ItemArchive, SeenStore
from alerts.ingest.fetch import Fetcher
from alerts.ingest.health import HealthStore
from alerts.ingest.intake import Intake
from alerts.ingest.state import SourceStateStore
from alerts.models import Alert, Item
from alerts.settings import Settings


@dataclass(frozen=True)
class Parsed:
    """A bulletin's items as the API parsed them (so the worker does not parse it again)."""

    items: Sequence[Item]
    format: str  # the format it was parsed as: the metrics' label


class Queues(Protocol):
    """How a use case queues the next step (the workers pass Celery's)."""

    def delivery(self, alert: Alert, channel: str, countdown: float | None) -> None:
        """Queue one delivery, now or after ``countdown`` seconds."""
        ...

    def match(self, batch: list[Item]) -> None:
        """Queue a batch of items to be matched (on every shard's queue when sharded)."""
        ...

    def bulletin(
        self,
        source: str,
        content_b64: str,
        content_type: str | None,
        bulletin_id: str | None,
        parsed: Parsed | None = None,
    ) -> None:
        """Queue a bulletin's ingest (a follow-up for its rest, or one the intake kept)."""
        ...

    def poll(self, source_id: str) -> None:
        """Queue the poll of one source."""
        ...


class Locks(Protocol):
    """Short leases by name: one poll at a time per source."""

    def take(self, name: str, seconds: int) -> bool:
        """Take ``name`` for ``seconds`` unless someone holds it."""
        ...

    def drop(self, name: str) -> None:
        """Let go of ``name``."""
        ...


class RedisLocks:
    """Leases as Redis keys (``SET NX EX``), shared by every worker."""

    def __init__(self, client: redis.Redis, prefix: str = "alerts:poll-lock:") -> None:
        self.r, self.p = client, prefix

    def take(self, name: str, seconds: int) -> bool:
        """Take ``name`` for ``seconds`` unless someone holds it."""
        return bool(self.r.set(f"{self.p}{name}", "1", nx=True, ex=seconds))

    def drop(self, name: str) -> None:
        """Let go of ``name``."""
        self.r.delete(f"{self.p}{name}")


@dataclass
class MemoryLocks:
    """Leases in a set (no expiry), for unit tests."""

    held: set[str] = field(default_factory=set)

    def take(self, name: str, seconds: int) -> bool:
        """Take ``name`` unless it is held."""
        if name in self.held:
            return False
        self.held.add(name)
        return True

    def drop(self, name: str) -> None:
        """Let go of ``name``."""
        self.held.discard(name)


@dataclass(frozen=True)
class Services:
    """Everything the use cases need, built once per worker process."""

    settings: Settings
    seen: SeenStore
    archive: ItemArchive
    delivery: DeliveryDeps
    clock: Clock
    rules: Rules
    fetcher: Fetcher
    source_state: SourceStateStore
    queues: Queues
    locks: Locks
    intake: Intake | None = None
    health: HealthStore | None = None
    shard: int | None = None
    # What a use case raises as it is, for the caller to try again later (never handled
    # bulletin by bulletin): the stores' outages, and the queues' (the workers add the broker's).
    outages: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)

    def handoff(self) -> Handoff:
        """The hand-on dependencies (match, record, remember, send or queue)."""
        conf = self.settings.worker
        return Handoff(
            seen=self.seen,
            archive=self.archive,
            delivery=self.delivery,
            clock=self.clock,
            enqueue=self.queues.delivery,
            match_batch=conf.match_batch,
            inline=conf.inline_deliveries,
            inline_budget=conf.inline_budget_seconds,
            intake=self.intake,
            send_seconds=2 * self.settings.notify.http_timeout,  # connect + read
        )
