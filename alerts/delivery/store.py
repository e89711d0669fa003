"""The delivery store: every piece of state delivery keeps, in Redis or in memory."""

from __future__ import annotations

from dataclasses import dataclass, field

import redis

from alerts.delivery.buffer import DigestBuffer, MemoryBuffer, RedisBuffer
from alerts.delivery.ledger import Ledger, MemoryLedger
from alerts.delivery.limits import Limits, MemoryLimits, RedisLimits
from alerts.delivery.redis_ledger import RedisLedger
from alerts.delivery.settings import DeliverySettings
from alerts.delivery.silences import MemorySilences, RedisSilences, SilenceStore
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
