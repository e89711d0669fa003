"""Per-source state: validators for conditional GET, health, and backoff after failures."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Protocol

import redis
from pydantic import BaseModel, ConfigDict

MAX_BACKOFF = timedelta(hours=6)
_KEY = "alerts:ingest:source:"


class SourceState(BaseModel):
    """What we remember about one source between polls (stored as JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    etag: str | None = None
    last_modified: str | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    items_seen: int = 0
    consecutive_failures: int = 0
    next_poll_at: datetime | None = None

    def is_due(self, now: datetime) -> bool:
        """Whether the source may be polled at ``now`` (backoff and interval respected)."""
        return self.next_poll_at is None or now >= self.next_poll_at


def _jitter(source_id: str, now: datetime, fraction: float) -> float:
    """A factor in [1 - fraction, 1 + fraction], fixed for a (source, instant): reproducible."""
    digest = hashlib.sha256(f"{source_id}|{now.isoformat()}".encode()).digest()
    unit = int.from_bytes(digest[:4], "big") / 0xFFFFFFFF
    return 1 + fraction * (2 * unit - 1)


def after_success(
    state: SourceState,
    now: datetime,
    *,
    source_id: str,
    interval: float,
    jitter: float,
    items: int,
    etag: str | None,
    last_modified: str | None,
) -> SourceState:
    """The state after a successful poll: validators kept, failures reset, next poll set."""
    delay = timedelta(seconds=interval * _jitter(source_id, now, jitter))
    return state.model_copy(
        update={
            "etag": etag,
            "last_modified": last_modified,
            "last_success": now,
            "items_seen": state.items_seen + items,
            "consecutive_failures": 0,
            "next_poll_at": now + delay,
        }
    )


def after_failure(state: SourceState, now: datetime, *, interval: float, error: str) -> SourceState:
    """The state after a failed poll: exponential backoff, capped at ``MAX_BACKOFF``."""
    failures = state.consecutive_failures + 1
    delay = min(timedelta(seconds=interval * 2 ** min(failures, 20)), MAX_BACKOFF)
    return state.model_copy(
        update={
            "last_error": error,
            "last_error_at": now,
            "consecutive_failures": failures,
            "next_poll_at": now + max(delay, timedelta(seconds=interval)),
        }
    )


class SourceStateStore(Protocol):
    """Where source states live."""

    def get(self, source_id: str) -> SourceState:
        """The state of a source (a fresh one when unknown)."""
        ...

    def put(self, source_id: str, state: SourceState) -> None:
        """Replace the state of a source."""
        ...


class MemorySourceStateStore:
    """The in-memory fake."""

    def __init__(self) -> None:
        self.states: dict[str, SourceState] = {}

    def get(self, source_id: str) -> SourceState:
        """The state of a source (a fresh one when unknown)."""
        return self.states.get(source_id, SourceState())

    def put(self, source_id: str, state: SourceState) -> None:
        """Replace the state of a source."""
        self.states[source_id] = state


class RedisSourceStateStore:
    """Source states as JSON strings in Redis (no expiry: they are configuration-sized)."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    def get(self, source_id: str) -> SourceState:
        """The state of a source (a fresh one when unknown)."""
        raw = self.client.get(_KEY + source_id)
        return SourceState.model_validate_json(raw) if raw else SourceState()  # type: ignore[arg-type]

    def put(self, source_id: str, state: SourceState) -> None:
        """Replace the state of a source."""
        self.client.set(_KEY + source_id, state.model_dump_json())
