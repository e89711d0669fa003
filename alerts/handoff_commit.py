"""One write for a batch of new items: their deliveries recorded ``pending``, the items
remembered, their bulletin released from the intake, and the silences read for the sends.

``commit_new`` also checks which items are new (``SeenStore.unseen``) in that write, for items
not checked before matching (a bulletin the API parsed, of one chunk): on one Redis a script
reads each item's seen key, records the rows of the new items only and marks those seen, so
the seen check costs no round trip of its own. A seen item is matched for nothing then (rare:
the API counted the bulletin's new items a moment before) and archived again (its latest
ingest time kept, as ``ItemArchive.add`` does for a re-added item).

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
from alerts.delivery.ledger_lua import LEDGER_SCRIPT
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


# KEYS: the items' seen keys, then each row's ledger keys (4). ARGV: the item count, the seen
# mark's value and TTL, then per row its item's position (1-based) and its ledger arguments
# (16, mode ``insert``). Returns {1/0 per item (new), per row the ledger's reply or {5, ""}
# (its item was seen: not recorded)}. Each item is checked and marked by one SET NX (was
# EXISTS, then SET after the rows): the script runs atomically, so its rows and marks land
# together all the same (records before remembered), and its writes cannot fail halfway.
RECORD_NEW = f"""
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
local n = tonumber(ARGV[1])
local new, flags, out = {{}}, {{}}, {{}}
for i = 1, n do
  new[i] = redis.call('SET', KEYS[i], ARGV[2], 'NX', 'EX', ARGV[3]) ~= false
  flags[i] = new[i] and 1 or 0
end
local r = 0
while n + 4 * r < #KEYS do
  local k, a = n + 4 * r, 3 + 17 * r
  if new[tonumber(ARGV[a + 1])] then
    out[#out + 1] = ledger({{unpack(KEYS, k + 1, k + 4)}}, {{unpack(ARGV, a + 2, a + 17)}})
  else
    out[#out + 1] = {{5, ''}}
  end
  r = r + 1
end
return {{flags, out}}
"""


def commit_new(
    h: Stores, rows: Sequence[DeliveryRow], items: Sequence[Item], done: str | None
) -> tuple[list[DeliveryRow], list[Silence], list[Item]]:
    """``commit`` for ``items`` (unique ids) not checked against ``h.seen`` yet: only the new
    ones are remembered and only their rows recorded; those rows as recorded, the silences
    and the new items."""
    client = _one_client(h)
    if client is None:
        unseen = set(h.seen.unseen([item.id for item in items]))
        fresh = [item for item in items if item.id in unseen]
        recorded, muted = _one_by_one(h, [r for r in rows if r.item_id in unseen], fresh, done)
        return recorded, muted, fresh
    ledger, silences = h.delivery.store.ledger, h.delivery.store.silences
    assert isinstance(ledger, RedisLedger) and isinstance(silences, RedisSilences)
    assert isinstance(h.archive, RedisItemArchive) and isinstance(h.seen, RedisSeenStore)
    now = h.clock()
    at = {item.id: n for n, item in enumerate(items, 1)}
    keys: list[str] = [h.seen.key(item.id) for item in items]
    args: list[Any] = [len(items), *h.seen.stamp(now)]
    for row in rows:
        row_keys, row_args = ledger.keys_args("insert", row)
        keys += row_keys
        args += [at[row.item_id], *row_args]
    pipe = client.pipeline(transaction=False)
    h.archive.queue_add(pipe, items, now)  # archived, then seen (as dedup.remember)
    script = len(pipe)
    pipe.eval(RECORD_NEW, len(keys), *keys, *args)
    if done is not None and isinstance(h.intake, RedisIntake):
        h.intake.queue_done(pipe, done)
    silences.queue_all(pipe)
    replies: list[Any] = pipe.execute()
    flags, written = replies[script]
    fresh = [item for item, flag in zip(items, flags, strict=True) if int(flag)]
    recorded = [
        inserted(reply) or row
        for row, reply in zip(rows, written, strict=True)
        if int(reply[0]) != 5
    ]
    return recorded, from_hash(replies[-1]), fresh


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
