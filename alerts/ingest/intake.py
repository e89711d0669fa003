"""Bulletins accepted but not yet handed on: the ingest task's safety net.

Kombu's Redis transport pops a task message (BRPOP) before it records it as unacknowledged; a
worker killed in between loses that message, and no visibility timeout brings it back (the chaos
test lost a whole bulletin that way, twice in six runs). So the API writes each bulletin here
before queueing its ingest task, the task drops it once the items are handed on and remembered,
and the reconciler queues again any bulletin still here after the visibility timeout. A bulletin
ingested twice is harmless: its items are seen by then, or their deliveries are in the ledger.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import redis
import redis.asyncio

from alerts.ingest.dedup import RedisSeenStore
from alerts.ingest.onetrip import OneTrip
from alerts.jsontext import json_string
from alerts.redis_conn import Durability

_BODY = "alerts:ingest:intake"
_WAKE = "alerts:ingest:intake:wake"
INTAKE_KEY = _BODY  # the hash of accepted bulletins (its length is a metric)
_CHUNK = 500  # wake entries read per round trip of ``due``
_SWEEPS = 200  # at most this many chunks per ``due`` (100k entries: a beat's worth and more)
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode  # one encoder, not one per write


@dataclass(frozen=True)
class Accepted:
    """One bulletin as the API accepted it: what its ingest task is given."""

    id: str
    source: str
    content_b64: str
    content_type: str | None


class Intake(Protocol):
    """Accepted bulletins until their ingest task finished."""

    def add(self, bulletin: Accepted, wake_at: datetime) -> None:
        """Keep ``bulletin``; ``due`` returns it from ``wake_at`` on."""
        ...

    def done(self, bulletin_id: str) -> None:
        """Forget a bulletin whose items were handed on."""
        ...

    def extend(self, bulletin_id: str, wake_at: datetime) -> None:
        """Move a kept bulletin's wake time (a follow-up task is on it)."""
        ...

    def due(self, now: datetime, later: datetime, limit: int = 100) -> list[Accepted]:
        """Bulletins past their wake time; each wakes again at ``later``."""
        ...


class MemoryIntake:
    """The intake in dicts."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[Accepted, datetime]] = {}

    def add(self, bulletin: Accepted, wake_at: datetime) -> None:
        """Keep the bulletin."""
        self.items[bulletin.id] = (bulletin, wake_at)

    def done(self, bulletin_id: str) -> None:
        """Forget it."""
        self.items.pop(bulletin_id, None)

    def extend(self, bulletin_id: str, wake_at: datetime) -> None:
        """Move its wake time, if it is still kept."""
        if bulletin_id in self.items:
            self.items[bulletin_id] = (self.items[bulletin_id][0], wake_at)

    def due(self, now: datetime, later: datetime, limit: int = 100) -> list[Accepted]:
        """Past their wake time, oldest first; they wake again at ``later``."""
        found = sorted((w, b.id) for b, w in self.items.values() if w <= now)[:limit]
        out = [self.items[bid][0] for _, bid in found]
        for b in out:
            self.items[b.id] = (b, later)
        return out


class RedisIntake:
    """A hash of bulletins (id -> JSON) and a sorted set of wake times; one round trip each."""

    def __init__(self, client: redis.Redis, durability: Durability | None = None) -> None:
        self.r = client
        self.durability = durability or Durability()

    def add(self, bulletin: Accepted, wake_at: datetime) -> None:
        """Keep the bulletin (hash, then wake time: one round trip); with ``durability``, not
        before its replicas hold it (``NotReplicated`` otherwise: the API answers 503)."""
        with self.r.pipeline(transaction=False) as pipe:
            self._queue_add(pipe, bulletin, wake_at)
            self.durability.execute(pipe)

    def add_counting_new(
        self,
        bulletin: Accepted,
        wake_at: datetime,
        seen: RedisSeenStore,
        ids: Sequence[str],
        then: Callable[[Any], object] | None = None,
    ) -> int:
        """``add``, and how many of ``ids`` (each once) were never ingested, read just before
        the write in the same round trip (the API's answer says how many items are new).
        ``then`` queues more commands after the write, in that round trip and under its
        ``WAIT`` (the API's task message)."""
        with self.r.pipeline(transaction=False) as pipe:
            self._queue_counting(pipe, bulletin, wake_at, seen, ids, then)
            replies = self.durability.execute(pipe)
        return _unseen_count(replies[0], ids)

    async def add_counting_new_async(
        self,
        client: redis.asyncio.Redis,
        bulletins: Sequence[tuple[Accepted, Sequence[str]]],
        wake_at: datetime,
        seen: RedisSeenStore,
        then: Callable[[Any], object] | None = None,
    ) -> list[int]:
        """``add_counting_new`` of several bulletins (each with its items' ids) on ``client``,
        redis-py's asyncio client of the same Redis, in one round trip: the API writes from its
        event loop, without a thread hop per POST, and without redis-py's pipeline (``OneTrip``:
        about 40 µs of CPU less per POST). How many of each one's ids are new."""
        pipe = OneTrip(client)
        firsts = []  # each bulletin's first reply: its seen count (when it has ids)
        for bulletin, ids in bulletins:
            firsts.append(len(pipe.commands))
            self._queue_counting(pipe, bulletin, wake_at, seen, ids, None)
        if then is not None:
            then(pipe)
        replies = await self.durability.execute_async(pipe)
        return [
            _unseen_count(replies[first], ids)
            for first, (_, ids) in zip(firsts, bulletins, strict=True)
        ]

    def _queue_counting(
        self,
        pipe: Any,
        bulletin: Accepted,
        wake_at: datetime,
        seen: RedisSeenStore,
        ids: Sequence[str],
        then: Callable[[Any], object] | None,
    ) -> None:
        """The seen count of ``ids``, the intake's write, then what ``then`` queues."""
        seen.queue_seen_count(pipe, ids)
        self._queue_add(pipe, bulletin, wake_at)
        if then is not None:
            then(pipe)

    def _queue_add(self, pipe: Any, bulletin: Accepted, wake_at: datetime) -> None:
        """The intake's write: the bulletin's body, then its wake time."""
        body = _entry(bulletin)
        pipe.hset(_BODY, bulletin.id, body)
        pipe.zadd(_WAKE, {bulletin.id: wake_at.timestamp()})

    def done(self, bulletin_id: str) -> None:
        """Forget it: its body only; ``due`` drops its wake entry when that comes due."""
        with self.r.pipeline(transaction=False) as pipe:
            self.queue_done(pipe, bulletin_id)
            pipe.execute()

    def queue_done(self, pipe: Any, bulletin_id: str) -> None:
        """``done``'s command queued on ``pipe`` (the hand-on's one write, ``handoff_commit``).
        The wake entry stays: ``due`` sweeps the finished ones a chunk per ZREM, which saves
        a command per bulletin (issue 13)."""
        pipe.hdel(_BODY, bulletin_id)

    def extend(self, bulletin_id: str, wake_at: datetime) -> None:
        """Move its wake time, if it is still kept (``xx``: never re-adds a finished one)."""
        self.r.zadd(_WAKE, {bulletin_id: wake_at.timestamp()}, xx=True)

    def due(self, now: datetime, later: datetime, limit: int = 100) -> list[Accepted]:
        """Past their wake time, oldest first; they wake again at ``later``. The wake entries
        of finished bulletins (``done`` leaves them) are dropped on the way, a chunk per round
        trip, so however many there are they never hide a kept one."""
        out: list[Accepted] = []
        for _ in range(_SWEEPS):
            ids: list[Any] = list(
                self.r.zrangebyscore(_WAKE, "-inf", now.timestamp(), start=0, num=_CHUNK)
            )
            if not ids:
                break
            kept, gone = self._read(ids, limit - len(out))
            with self.r.pipeline(transaction=False) as pipe:
                if gone:
                    pipe.zrem(_WAKE, *gone)
                if kept:
                    pipe.zadd(_WAKE, {b.id: later.timestamp() for b in kept}, xx=True)
                pipe.execute()
            out += kept
            if len(out) >= limit or len(ids) < _CHUNK or later <= now:
                break
        return out

    def _read(self, ids: list[Any], room: int) -> tuple[list[Accepted], list[str]]:
        """Up to ``room`` kept bulletins among ``ids`` (the rest wait for the next call), and
        the ids of the finished ones (no body)."""
        bodies: list[Any] = list(self.r.hmget(_BODY, ids))
        kept: list[Accepted] = []
        gone: list[str] = []
        for raw_id, body in zip(ids, bodies, strict=True):
            bid = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            if body is None:
                gone.append(bid)
            elif len(kept) < room:
                source, content, ctype = json.loads(body)
                kept.append(Accepted(bid, source, content, ctype))
        return kept, gone


def _unseen_count(reply: Any, ids: Sequence[str]) -> int:
    """How many of ``ids`` the reply (their seen count, a bulletin's first) found unseen."""
    return len(ids) - int(reply) if ids else 0


def _entry(bulletin: Accepted) -> str:
    """The intake's JSON text of ``bulletin`` (source, content, content type), as ``_ENCODE``
    writes it; the base64 content without the encoder's escape scan (``json_string``)."""
    b64 = json_string(bulletin.content_b64)
    return f"[{_ENCODE(bulletin.source)},{b64},{_ENCODE(bulletin.content_type)}]"
