"""The digest buffer: alerts held back per (watch, channel) until their digest is due.

Entries are keyed by delivery key, so re-adding one (a redelivered task) never counts twice.
Taking a bucket moves it aside atomically; it is dropped only after the digest was sent, so a
failed send keeps every entry for the next try.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import redis

from alerts.models import Alert, Frozen


class Held(Frozen):
    """One alert waiting in a digest bucket."""

    key: str
    story: str
    reason: str
    at: datetime
    alert: Alert


def bucket_of(watch: str, channel: str) -> str:
    """The bucket name for a (watch, channel)."""
    return f"{watch}|{channel}"


class DigestBuffer(Protocol):
    """Storage of held alerts."""

    def add(self, bucket: str, held: Held, due: datetime) -> None:
        """Hold an entry; the bucket becomes due at ``due`` or earlier."""
        ...

    def due(self, now: datetime) -> list[str]:
        """Buckets whose due time has passed."""
        ...

    def peek(self, bucket: str) -> list[Held]:
        """Every entry of a bucket (taken aside or not), without removing any."""
        ...

    def take(self, bucket: str) -> list[Held]:
        """Move the bucket aside (unless a failed take is pending) and return what is aside."""
        ...

    def done(self, bucket: str, now: datetime) -> None:
        """Drop what ``take`` moved aside; held entries without a due time become due ``now``."""
        ...

    def reschedule(self, bucket: str, due: datetime) -> None:
        """Make a bucket due at ``due`` (after a failed or deferred send; may be later)."""
        ...

    def failed(self, bucket: str) -> int:
        """Count one more failed send of what is aside; returns the count (reset by done)."""
        ...


class MemoryBuffer:
    """The digest buffer in dicts."""

    def __init__(self) -> None:
        self.held: dict[str, dict[str, Held]] = {}
        self.aside: dict[str, dict[str, Held]] = {}
        self.due_at: dict[str, datetime] = {}
        self.failures: dict[str, int] = {}

    def add(self, bucket: str, held: Held, due: datetime) -> None:
        """Hold an entry; keep the earliest due time."""
        self.held.setdefault(bucket, {})[held.key] = held
        self.due_at[bucket] = min(due, self.due_at.get(bucket, due))

    def due(self, now: datetime) -> list[str]:
        """Buckets whose due time has passed."""
        return sorted(b for b, t in self.due_at.items() if t <= now)

    def peek(self, bucket: str) -> list[Held]:
        """Everything held for a bucket."""
        both = {**self.aside.get(bucket, {}), **self.held.get(bucket, {})}
        return sorted(both.values(), key=lambda h: h.at)

    def take(self, bucket: str) -> list[Held]:
        """Move the bucket aside and return it."""
        if bucket not in self.aside and bucket in self.held:
            self.aside[bucket] = self.held.pop(bucket)
        self.due_at.pop(bucket, None)
        return sorted(self.aside.get(bucket, {}).values(), key=lambda h: h.at)

    def done(self, bucket: str, now: datetime) -> None:
        """Drop what was taken; entries held meanwhile become due ``now``."""
        self.aside.pop(bucket, None)
        self.failures.pop(bucket, None)
        if self.held.get(bucket):
            self.due_at.setdefault(bucket, now)

    def reschedule(self, bucket: str, due: datetime) -> None:
        """Make the bucket due at ``due``."""
        self.due_at[bucket] = due

    def failed(self, bucket: str) -> int:
        """Count a failed send."""
        self.failures[bucket] = self.failures.get(bucket, 0) + 1
        return self.failures[bucket]


_TAKE = """
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
end
redis.call('ZREM', KEYS[3], ARGV[1])
return redis.call('HVALS', KEYS[2])
"""


class RedisBuffer:
    """Hashes ``buf:B`` (held) and ``aside:B`` (taken), and a zset ``buf:due`` of buckets."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.p = prefix
        self._take = client.register_script(_TAKE)

    def add(self, bucket: str, held: Held, due: datetime) -> None:
        """Hold an entry (HSET is idempotent per key); keep the earliest due time."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hset(f"{self.p}buf:{bucket}", held.key, held.model_dump_json())
            pipe.zadd(f"{self.p}buf:due", {bucket: due.timestamp()}, lt=True)
            pipe.execute()

    def due(self, now: datetime) -> list[str]:
        """Buckets whose due time has passed."""
        raw = self.r.zrangebyscore(f"{self.p}buf:due", "-inf", now.timestamp())
        return [_text(b) for b in raw]  # type: ignore[union-attr]

    def peek(self, bucket: str) -> list[Held]:
        """Everything held for a bucket."""
        aside: dict[bytes, bytes] = self.r.hgetall(f"{self.p}aside:{bucket}")  # type: ignore[assignment]
        held: dict[bytes, bytes] = self.r.hgetall(f"{self.p}buf:{bucket}")  # type: ignore[assignment]
        both = {**aside, **held}
        return sorted((Held.model_validate_json(v) for v in both.values()), key=lambda h: h.at)

    def take(self, bucket: str) -> list[Held]:
        """Atomically move the bucket aside (Lua) and return it."""
        keys = [f"{self.p}buf:{bucket}", f"{self.p}aside:{bucket}", f"{self.p}buf:due"]
        raw = self._take(keys=keys, args=[bucket])
        return sorted((Held.model_validate_json(v) for v in raw), key=lambda h: h.at)

    def done(self, bucket: str, now: datetime) -> None:
        """Drop what was taken; entries held meanwhile become due ``now``."""
        self.r.delete(f"{self.p}aside:{bucket}", f"{self.p}fail:{bucket}")
        if self.r.exists(f"{self.p}buf:{bucket}"):
            self.r.zadd(f"{self.p}buf:due", {bucket: now.timestamp()}, nx=True)

    def reschedule(self, bucket: str, due: datetime) -> None:
        """Make the bucket due at ``due`` (a deferral may move it later)."""
        self.r.zadd(f"{self.p}buf:due", {bucket: due.timestamp()})

    def failed(self, bucket: str) -> int:
        """Count a failed send (INCR)."""
        return int(self.r.incr(f"{self.p}fail:{bucket}"))  # type: ignore[arg-type]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
