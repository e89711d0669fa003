"""The delivery store: every piece of state delivery keeps, in Redis or in memory."""

from __future__ import annotations

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
    ledger, stories, ref = store.ledger, store.stories, row.thread_ref
    if row.status != "sent" or not row.story or not ref:
        return ledger.finish(row, token)
    if not (
        isinstance(ledger, RedisLedger)
        and isinstance(stories, RedisStories)
        and ledger.r is stories.r
    ):
        stories.set_thread(row.story, row.channel, ref)
        return ledger.finish(row, token)
    pipe = ledger.r.pipeline(transaction=False)
    stories.queue_set_thread(pipe, row.story, row.channel, ref)
    ledger.queue_finish(pipe, row, token)
    _, (code, _) = pipe.execute()
    return int(code) == 1


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
