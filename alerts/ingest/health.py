"""Source health: a source failing N polls in a row, or quiet too long, opens an incident.

Pure decisions over a source's poll state and when it last gave a new item; the incident
number makes each alert and its recovery notice a distinct delivery in the ledger, so a check
run twice (two beat ticks racing) raises each notice once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import redis
from pydantic import BaseModel, ConfigDict, Field

from alerts.ingest.state import SourceState

Problem = Literal["failing", "quiet"]
NoticeKind = Literal["failing", "quiet", "recovered"]
_KEY = "alerts:ingest:health:"
_LAST_NEW = "alerts:ingest:last-new"


class SourceHealthSettings(BaseModel):
    """The ``source_health:`` section: where ops alerts go and when a source is unwell."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str | None = Field(default=None, description="Channel of ops alerts (null: off).")
    failures: int = Field(default=3, ge=1, description="Consecutive failed polls that alert.")
    quiet_after: float | None = Field(
        default=None, gt=0, description="Seconds without a new item that alert (null: never)."
    )


class Health(BaseModel):
    """What the checker remembers about a source: its open incident, if any."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident: int = 0
    open: Problem | None = None
    opened_at: datetime | None = None
    watched_since: datetime | None = None


@dataclass(frozen=True)
class Notice:
    """One ops message to send: an incident opened, or its recovery."""

    source: str
    incident: int
    kind: NoticeKind
    detail: str


def problem(
    state: SourceState,
    last_new: datetime | None,
    now: datetime,
    *,
    failures: int,
    quiet_after: float | None,
) -> tuple[Problem, str] | None:
    """What is wrong with a source now (failing beats quiet), with a readable detail."""
    if state.consecutive_failures >= failures:
        error = state.last_error or "unknown error"
        return "failing", f"{state.consecutive_failures} consecutive failed polls; last: {error}"
    if quiet_after is not None and last_new is not None:
        silent = (now - last_new).total_seconds()
        if silent >= quiet_after:
            return "quiet", f"no new item for {silent:.0f} s (limit {quiet_after:.0f} s)"
    return None


def assess(
    health: Health, found: tuple[Problem, str] | None, now: datetime, source: str
) -> tuple[Health, Notice | None]:
    """The next health record and the notice to send, if the source's state changed."""
    if health.watched_since is None:
        health = health.model_copy(update={"watched_since": now})
    if found is not None and health.open is None:
        kind, detail = found
        opened = Health(incident=health.incident + 1, open=kind, opened_at=now,
                        watched_since=health.watched_since)  # fmt: skip
        return opened, Notice(source, opened.incident, kind, detail)
    if found is None and health.open is not None:
        since = (now - (health.opened_at or now)).total_seconds()
        closed = health.model_copy(update={"open": None, "opened_at": None})
        detail = f"healthy again after {since:.0f} s ({health.open})"
        return closed, Notice(source, health.incident, "recovered", detail)
    return health, None


class HealthStore(Protocol):
    """Where health records and each source's last new item time live."""

    def get(self, source_id: str) -> Health:
        """The health record of a source (a fresh one when unknown)."""
        ...

    def put(self, source_id: str, health: Health) -> None:
        """Replace the health record of a source."""
        ...

    def saw_new(self, source_ids: set[str], now: datetime) -> None:
        """Note that these sources gave new items at ``now``."""
        ...

    def last_new(self, source_id: str) -> datetime | None:
        """When a source last gave a new item, if known."""
        ...


class MemoryHealthStore:
    """The in-memory fake."""

    def __init__(self) -> None:
        self.records: dict[str, Health] = {}
        self.new_at: dict[str, datetime] = {}

    def get(self, source_id: str) -> Health:
        """The health record of a source (a fresh one when unknown)."""
        return self.records.get(source_id, Health())

    def put(self, source_id: str, health: Health) -> None:
        """Replace the health record of a source."""
        self.records[source_id] = health

    def saw_new(self, source_ids: set[str], now: datetime) -> None:
        """Note that these sources gave new items at ``now``."""
        self.new_at.update(dict.fromkeys(source_ids, now))

    def last_new(self, source_id: str) -> datetime | None:
        """When a source last gave a new item, if known."""
        return self.new_at.get(source_id)


class RedisHealthStore:
    """Health records as JSON strings; last-new times in one hash (epoch seconds)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, source_id: str) -> Health:
        """The health record of a source (a fresh one when unknown)."""
        raw = self.client.get(_KEY + source_id)
        return Health.model_validate_json(raw) if raw else Health()  # type: ignore[arg-type]

    def put(self, source_id: str, health: Health) -> None:
        """Replace the health record of a source."""
        self.client.set(_KEY + source_id, health.model_dump_json())

    def saw_new(self, source_ids: set[str], now: datetime) -> None:
        """Note that these sources gave new items at ``now``."""
        if source_ids:
            self.client.hset(_LAST_NEW, mapping=dict.fromkeys(source_ids, now.timestamp()))

    def last_new(self, source_id: str) -> datetime | None:
        """When a source last gave a new item, if known."""
        raw = self.client.hget(_LAST_NEW, source_id)
        return datetime.fromtimestamp(float(raw), UTC) if raw else None  # type: ignore[arg-type]

    def all_last_new(self) -> dict[str, float]:
        """Every source's last new item time (epoch seconds), for the metrics."""
        raw = self.client.hgetall(_LAST_NEW)
        return {k.decode(): float(v) for k, v in raw.items()}  # type: ignore[union-attr]
