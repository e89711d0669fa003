"""Which items were seen already, and an archive of ingested items, for a retention window.

Each port has a Redis implementation and an in-memory fake with the same behaviour. On Redis an
archived item's JSON is its seen mark (``alerts:ingest:seen:<id>``): one key and one write per
item, where a timestamp mark and a key of JSON took two of each (issue 13). A mark without the
item (``mark_seen`` alone) holds the time it was marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import redis

from alerts.models import Item

DEFAULT_RETENTION = timedelta(days=7)
_SEEN = "alerts:ingest:seen:"
_LEGACY_ITEM = "alerts:ingest:item:"  # the archive's keys until 2026-12-05 (read, not written)
_JSON = (b"{", "{")  # how an archived item's value starts (bytes, or str when decoded)
_INDEX = "alerts:ingest:archive"
TRIM_EVERY = timedelta(minutes=1)  # the archive index's trim, at most once per process


def seen_key(item_id: str) -> str:
    """The key marking ``item_id`` seen; on Redis an archived item's JSON is held there."""
    return _SEEN + item_id


class SeenStore(Protocol):
    """Remembers item ids for the retention window."""

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """The ids not marked yet, in the given order, without duplicates."""
        ...

    def mark_seen(self, ids: Iterable[str], now: datetime) -> None:
        """Mark ids as seen at ``now``."""
        ...

    def claim(self, ids: Sequence[str], now: datetime) -> list[str]:
        """Atomically mark ids and return those that were not seen before (race-free)."""
        ...


def _unique(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(ids))


def _seconds(retention: timedelta) -> int:
    return max(1, int(retention.total_seconds()))


class RedisSeenStore:
    """Seen ids as Redis keys that expire after the retention window."""

    def __init__(self, client: redis.Redis, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.client = client
        self.retention = retention

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """The ids not marked yet."""
        ids = _unique(ids)
        if not ids:
            return []
        pipe = self.client.pipeline(transaction=False)
        self.queue_unseen(pipe, ids)
        return [i for i, found in zip(ids, pipe.execute(), strict=True) if not found]

    def queue_unseen(self, pipe: Any, ids: Sequence[str]) -> None:
        """``unseen``'s reads queued on ``pipe``, one reply per id (truthy: seen)."""
        for item_id in ids:
            pipe.exists(self.key(item_id))

    def queue_seen_count(self, pipe: Any, ids: Sequence[str]) -> None:
        """How many of ``ids`` (each once) are seen, one ``EXISTS`` of all their keys queued on
        ``pipe`` (one reply, where ``queue_unseen`` has one command and reply per id)."""
        if ids:
            pipe.exists(*(self.key(item_id) for item_id in ids))

    def key(self, item_id: str) -> str:
        """The key that marks ``item_id`` seen (a script may read and write it)."""
        return seen_key(item_id)

    def stamp(self, now: datetime) -> tuple[str, int]:
        """A mark's value and its TTL in seconds."""
        return now.isoformat(), _seconds(self.retention)

    def mark_seen(self, ids: Iterable[str], now: datetime) -> None:
        """Mark ids as seen; their keys expire after the retention window."""
        pipe = self.client.pipeline(transaction=False)
        self.queue_mark(pipe, ids, now)
        pipe.execute()

    def queue_mark(self, pipe: Any, ids: Iterable[str], now: datetime) -> None:
        """``mark_seen``'s commands, queued on ``pipe``. ``NX``: a mark already there (an
        archived item, ``RedisItemArchive``) is kept, not overwritten with a timestamp."""
        value, ttl = self.stamp(now)
        for item_id in _unique(ids):
            pipe.set(self.key(item_id), value, ex=ttl, nx=True)

    def claim(self, ids: Sequence[str], now: datetime) -> list[str]:
        """Mark ids with SET NX; the ones this call set are the new ones."""
        ids = _unique(ids)
        pipe = self.client.pipeline(transaction=False)
        for item_id in ids:
            pipe.set(seen_key(item_id), now.isoformat(), ex=_seconds(self.retention), nx=True)
        return [i for i, new in zip(ids, pipe.execute(), strict=True) if new]


class MemorySeenStore:
    """The in-memory fake: entries older than the window are forgotten when marking."""

    def __init__(self, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.retention = retention
        self.seen: dict[str, datetime] = {}

    def unseen(self, ids: Sequence[str]) -> list[str]:
        """The ids not marked yet."""
        return [i for i in _unique(ids) if i not in self.seen]

    def mark_seen(self, ids: Iterable[str], now: datetime) -> None:
        """Mark ids as seen at ``now`` and forget those past the window."""
        self._expire(now)
        for item_id in ids:
            self.seen[item_id] = now

    def claim(self, ids: Sequence[str], now: datetime) -> list[str]:
        """Mark ids and return those that were new."""
        self._expire(now)
        new = self.unseen(ids)
        self.mark_seen(new, now)
        return new

    def _expire(self, now: datetime) -> None:
        cutoff = now - self.retention
        self.seen = {k: t for k, t in self.seen.items() if t > cutoff}


class ItemArchive(Protocol):
    """Ingested items kept for the retention window (the backtest reads them)."""

    def add(self, items: Iterable[Item], now: datetime) -> None:
        """Keep items, stamped with their ingest time ``now``."""
        ...

    def iter_since(self, since: datetime) -> Iterator[Item]:
        """Items ingested at or after ``since``, oldest first."""
        ...

    def stamped_since(self, since: datetime) -> Iterator[tuple[datetime, Item]]:
        """(ingest time, item) of the items ingested at or after ``since``, oldest first."""
        ...


class RedisItemArchive:
    """Items as JSON keys with a TTL, indexed by a sorted set scored by ingest time. An item's
    key is its seen mark (``RedisSeenStore.key``): archiving an item marks it seen."""

    def __init__(
        self, client: redis.Redis, retention: timedelta = DEFAULT_RETENTION, batch: int = 200
    ) -> None:
        self.client = client
        self.retention = retention
        self.batch = batch
        self._trimmed: datetime | None = None  # this process's last trim (``queue_add``)

    def add(self, items: Iterable[Item], now: datetime) -> None:
        """Store items (a re-added id keeps its latest ingest time) and trim the index."""
        # One round trip; no MULTI/EXEC: nothing reads the keys and the index together.
        pipe = self.client.pipeline(transaction=False)
        self.queue_add(pipe, items, now)
        pipe.execute()

    def queue_add(self, pipe: Any, items: Iterable[Item], now: datetime) -> None:
        """``add``'s commands, queued on ``pipe`` (see ``remember``). The index is trimmed at
        a process's first write and then at most once per ``TRIM_EVERY`` (of ``now``), not on
        every write: an entry stays at most that long past the retention (its item key has
        expired by then: readers skip it)."""
        for item in items:
            pipe.set(self.key(item.id), item.model_dump_json(), ex=self.ttl())
            pipe.zadd(_INDEX, {item.id: now.timestamp()})
        cutoff = self.trim_due(now)
        if cutoff is not None:
            pipe.zremrangebyscore(_INDEX, "-inf", cutoff)

    index = _INDEX  # the sorted set of ingest times (a script may write it)

    def key(self, item_id: str) -> str:
        """The key of an archived item's JSON: its seen mark (a script may write it)."""
        return seen_key(item_id)

    def ttl(self) -> int:
        """An archived item's TTL in seconds."""
        return _seconds(self.retention)

    def trim_due(self, now: datetime) -> float | None:
        """The score below which the index is trimmed with this write, or None (not due):
        at a process's first write, then at most once per ``TRIM_EVERY`` (of ``now``)."""
        if self._trimmed is not None and now - TRIM_EVERY < self._trimmed <= now:
            return None
        self._trimmed = now
        return (now - self.retention).timestamp()

    def iter_since(self, since: datetime) -> Iterator[Item]:
        """Items ingested since ``since``; expired ones are skipped."""
        for _, item in self.stamped_since(since):
            yield item

    def stamped_since(self, since: datetime) -> Iterator[tuple[datetime, Item]]:
        """(ingest time, item) since ``since``, oldest first; expired ones are skipped."""
        found: list[Any] = list(
            self.client.zrangebyscore(_INDEX, since.timestamp(), "+inf", withscores=True)
        )
        for start in range(0, len(found), self.batch):
            chunk = found[start : start + self.batch]
            ids = [i.decode() if isinstance(i, bytes) else i for i, _ in chunk]
            for (_, score), raw in zip(chunk, self._json(ids), strict=True):
                if raw is not None:
                    yield datetime.fromtimestamp(score, UTC), Item.model_validate_json(raw)

    def _json(self, ids: list[str]) -> list[Any]:
        """Each item's JSON, None when gone. A mark that is not JSON (written before the marks
        held the items) sends the read to the item's key of then, until those expire."""
        found: list[Any] = list(self.client.mget([self.key(i) for i in ids]))
        old = [n for n, raw in enumerate(found) if raw is not None and raw[:1] not in _JSON]
        if old:
            legacy = self.client.mget([_LEGACY_ITEM + ids[n] for n in old])
            for n, raw in zip(old, legacy, strict=True):
                found[n] = raw
        return found


class MemoryItemArchive:
    """The in-memory fake of the archive."""

    def __init__(self, retention: timedelta = DEFAULT_RETENTION) -> None:
        self.retention = retention
        self.items: dict[str, tuple[datetime, Item]] = {}

    def add(self, items: Iterable[Item], now: datetime) -> None:
        """Store items and forget those past the window."""
        cutoff = now - self.retention
        self.items = {k: v for k, v in self.items.items() if v[0] > cutoff}
        for item in items:
            self.items.pop(item.id, None)
            self.items[item.id] = (now, item)

    def iter_since(self, since: datetime) -> Iterator[Item]:
        """Items ingested since ``since``, oldest first."""
        for _, item in self.stamped_since(since):
            yield item

    def stamped_since(self, since: datetime) -> Iterator[tuple[datetime, Item]]:
        """(ingest time, item) since ``since``, oldest first."""
        for when, item in sorted(self.items.values(), key=lambda v: v[0]):
            if when >= since:
                yield when, item


def remember(
    items: Sequence[Item], *, seen: SeenStore, archive: ItemArchive, now: datetime
) -> None:
    """Archive items, then mark them seen: on one Redis, archiving them marks them."""
    archive.add(items, now)
    if (
        isinstance(seen, RedisSeenStore)
        and isinstance(archive, RedisItemArchive)
        and seen.client is archive.client
    ):
        return  # the archived JSON is the seen mark
    seen.mark_seen([item.id for item in items], now)
