"""One write for a batch of new items: their deliveries recorded ``pending``, the items
remembered, their bulletin released from the intake, and the silences read for the sends.

The order is the at-least-once guarantee (``handoff``): records before the items are
remembered. On one Redis these go in one pipeline without MULTI: Redis runs a connection's
commands in the order sent, so a worker that dies mid-write leaves at worst the records
without the items' writes (the items come again; the ledger keeps their rows). Elsewhere (the
memory fakes, stores on different clients) the same steps run one by one, in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import redis

from alerts.clock import Clock
from alerts.delivery.deps import DeliveryDeps
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.redis_ledger import RedisLedger, inserted
from alerts.delivery.silences import RedisSilences, Silence, from_hash
from alerts.delivery.store import redis_client
from alerts.ingest import dedup
from alerts.ingest.dedup import ItemArchive, RedisItemArchive, RedisSeenStore, SeenStore
from alerts.ingest.intake import Intake, RedisIntake
from alerts.models import Item


class Stores(Protocol):
    """What the write needs (``handoff.Handoff`` has it)."""

    @property
    def seen(self) -> SeenStore: ...
    @property
    def archive(self) -> ItemArchive: ...
    @property
    def delivery(self) -> DeliveryDeps: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def intake(self) -> Intake | None: ...


def commit(
    h: Stores, rows: Sequence[DeliveryRow], items: Sequence[Item], done: str | None
) -> tuple[list[DeliveryRow], list[Silence]]:
    """Record ``rows`` (a row already there is kept: it comes back instead), remember
    ``items``, release bulletin ``done``; the rows as recorded and the current silences."""
    client = _one_client(h)
    if client is None:
        return _one_by_one(h, rows, items, done)
    store = h.delivery.store
    ledger, silences = store.ledger, store.silences
    assert isinstance(ledger, RedisLedger) and isinstance(silences, RedisSilences)
    assert isinstance(h.archive, RedisItemArchive) and isinstance(h.seen, RedisSeenStore)
    pipe = client.pipeline(transaction=False)
    for row in rows:
        ledger.queue_insert(pipe, row)
    if items:
        now = h.clock()
        h.archive.queue_add(pipe, items, now)  # archived, then seen (as dedup.remember)
        h.seen.queue_mark(pipe, [item.id for item in items], now)
    if done is not None and isinstance(h.intake, RedisIntake):
        h.intake.queue_done(pipe, done)
    silences.queue_all(pipe)
    replies: list[Any] = pipe.execute()
    recorded = [inserted(reply) or row for row, reply in zip(rows, replies, strict=False)]
    return recorded, from_hash(replies[-1])


def _one_by_one(
    h: Stores, rows: Sequence[DeliveryRow], items: Sequence[Item], done: str | None
) -> tuple[list[DeliveryRow], list[Silence]]:
    store = h.delivery.store
    recorded = [store.ledger.insert(row) or row for row in rows]
    if items:
        dedup.remember(items, seen=h.seen, archive=h.archive, now=h.clock())
    if done is not None and h.intake is not None:
        h.intake.done(done)
    return recorded, store.silences.all()


def _one_client(h: Stores) -> redis.Redis | None:
    """The Redis client every store of ``h`` shares, else None."""
    client = redis_client(h.delivery.store)
    archive, seen, intake = h.archive, h.seen, h.intake
    if client is None or not isinstance(archive, RedisItemArchive):
        return None
    if not isinstance(seen, RedisSeenStore) or seen.client is not client:
        return None
    if archive.client is not client:
        return None
    if intake is not None and (not isinstance(intake, RedisIntake) or intake.r is not client):
        return None
    return client
