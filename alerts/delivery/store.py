"""The delivery store: every piece of state delivery keeps, in Redis or in memory."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import redis

from alerts.delivery.buffer import DigestBuffer, MemoryBuffer, RedisBuffer
from alerts.delivery.ledger import DeliveryRow, Ledger, MemoryLedger
from alerts.delivery.limits import Limits, MemoryLimits, RedisLimits
from alerts.delivery.redis_ledger import RedisLedger, looked_up
from alerts.delivery.settings import DeliverySettings
from alerts.delivery.silences import (
    MemorySilences,
    RedisSilences,
    Silence,
    SilenceStore,
    from_hash,
)
from alerts.delivery.stories import MemoryStories, RedisStories, StoryIndex
from alerts.redis_conn import Durability


@dataclass(frozen=True)
class DeliveryStore:
    """The ledger (rows + claims), silences, digest buffer, rate limits and story index."""

    ledger: Ledger = field(default_factory=MemoryLedger)
    silences: SilenceStore = field(default_factory=MemorySilences)
    buffer: DigestBuffer = field(default_factory=MemoryBuffer)
    limits: Limits = field(default_factory=MemoryLimits)
    stories: StoryIndex = field(default_factory=MemoryStories)


def memory_store() -> DeliveryStore:
    """A store in memory, for unit tests and dry runs."""
    return DeliveryStore()


def redis_store(
    client: redis.Redis,
    settings: DeliverySettings | None = None,
    durability: Durability | None = None,
) -> DeliveryStore:
    """A store in Redis under ``settings.key_prefix``, shared by every worker; ``durability``:
    the replicas a delivery's claim must reach before its message is sent."""
    s = settings or DeliverySettings()
    p = s.key_prefix
    return DeliveryStore(
        ledger=RedisLedger(client, p, s.row_ttl_days * 86400, durability),
        silences=RedisSilences(client, p),
        buffer=RedisBuffer(client, p),
        limits=RedisLimits(client, p),
        stories=RedisStories(client, p, s.story_window_seconds),
    )


def redis_client(store: DeliveryStore) -> redis.Redis | None:
    """The one Redis client of the ledger and the silences, when both live there (else None):
    then their reads and writes can share a round trip with each other and with other stores'."""
    ledger, silences = store.ledger, store.silences
    if isinstance(ledger, RedisLedger) and isinstance(silences, RedisSilences):
        return ledger.r if ledger.r is silences.r else None
    return None


def finish_sent(store: DeliveryStore, row: DeliveryRow, token: str) -> bool:
    """``finish`` the row after its send; a thread ref it got (a new story's first message)
    is remembered for the story's follow-ups first, in the same round trip on one Redis."""
    return finish_all(store, [(row, token)])[0]


def finish_all(store: DeliveryStore, done: Sequence[tuple[DeliveryRow, str]]) -> list[bool]:
    """``finish_sent`` for each (row, token): one round trip on one Redis (the ledger's and the
    stories'), else one by one; True for a row written."""
    ledger, stories = store.ledger, store.stories
    if not (
        isinstance(ledger, RedisLedger)
        and isinstance(stories, RedisStories)
        and ledger.r is stories.r
    ):
        return [_finish_one(store, row, token) for row, token in done]
    threads = [
        (stories.thread_key(row.story, row.channel), row.thread_ref, stories.ttl)
        for row, _ in done
        if row.status == "sent" and row.story and row.thread_ref
    ]
    return ledger.finish_all(done, threads)


def _finish_one(store: DeliveryStore, row: DeliveryRow, token: str) -> bool:
    if row.status == "sent" and row.story and row.thread_ref:
        store.stories.set_thread(row.story, row.channel, row.thread_ref)
    return store.ledger.finish(row, token)


def look(
    store: DeliveryStore, rid: str, now: datetime
) -> tuple[DeliveryRow | None, float | None, list[Silence]]:
    """The row, the seconds left on its claim and the silences: one round trip on Redis."""
    client = redis_client(store)
    if client is None:
        row, left = store.ledger.lookup(rid, now)
        return row, left, store.silences.all()
    ledger, silences = store.ledger, store.silences
    assert isinstance(ledger, RedisLedger) and isinstance(silences, RedisSilences)
    pipe = client.pipeline(transaction=False)
    ledger.queue_lookup(pipe, rid)
    silences.queue_all(pipe)
    found, raw = pipe.execute()
    row, left = looked_up(found, now)
    return row, left, from_hash(raw)
