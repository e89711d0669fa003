"""One write for a batch of new items: their deliveries recorded ``pending``, the items
remembered, their bulletin released from the intake, and the silences read for the sends.

``write`` with ``check`` also checks which items are new (``SeenStore.unseen``) in that write,
for items not checked before matching (a bulletin the API parsed, of one chunk): on one Redis
the script checks each item's seen key, records the rows of the new items only and marks those
seen, so the seen check costs no round trip of its own. A seen item is matched for nothing
then (rare: the API counted the bulletin's new items a moment before).

The order is the at-least-once guarantee (``handoff``): records before the items are
remembered. On one Redis the whole write is one script (``handoff_lua``), which Redis runs
atomically; called by digest, its text sent only when Redis answers NOSCRIPT (which writes
nothing). Elsewhere (the memory fakes, stores on different clients) the same steps run one by
one, in the same order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

import redis
from redis.exceptions import NoScriptError

from alerts.clock import Clock
from alerts.delivery.deps import DeliveryDeps
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.redis_ledger import RedisLedger, inserted
from alerts.delivery.silences import RedisSilences, Silence, from_hash
from alerts.delivery.store import redis_client
from alerts.delivery.straight import Ahead, Straight, step_keys_args, stepped
from alerts.handoff_lua import COMMIT_SCRIPT, COMMIT_SHA, RELEASE_SEP
from alerts.ingest import dedup
from alerts.ingest.dedup import ItemArchive, RedisItemArchive, RedisSeenStore, SeenStore
from alerts.ingest.intake import INTAKE_KEY, Intake, RedisIntake
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


Steps = dict[str, tuple[Ahead, Straight]]  # the steps a write took, by their rows' ids


class Written(NamedTuple):
    """What a write answers: the rows as recorded, the silences, the new items (all of them
    without the check) and the straight steps it took (``steps``, in the rows' order)."""

    recorded: list[DeliveryRow]
    silences: list[Silence]
    items: list[Item]
    steps: Steps = {}  # noqa: RUF012  # never mutated: a write answers a dict of its own


# The silences the last write read on any Redis, by the digest of their hash (``handoff_lua``):
# a write whose hash has that digest reads the same silences, sent and decoded once.
_KNOWN: list[tuple[str, list[Silence]]] = [("", [])]


def known_silences() -> tuple[str, list[Silence]]:
    """The digest and silences of the last write ("" and none before one): what a caller
    judges a straight step by before its write; the write takes it only if they still hold."""
    return _KNOWN[0]


def commit(
    h: Stores, rows: Sequence[DeliveryRow], items: Sequence[Item], done: tuple[str, ...]
) -> tuple[list[DeliveryRow], list[Silence]]:
    """Record ``rows`` (a row already there is kept: it comes back instead), remember
    ``items``, release the bulletins ``done``; the rows as recorded and the current silences."""
    recorded, silences, _, _ = write(h, rows, items, done, check=False)
    return recorded, silences


_ITEM_JSON = Item.__pydantic_serializer__.to_json  # what ``Item.model_dump_json`` decodes


def write(
    h: Stores,
    rows: Sequence[DeliveryRow],
    items: Sequence[Item],
    done: tuple[str, ...],
    *,
    check: bool,
    aheads: Sequence[Ahead] = (),
    known: tuple[str, list[Silence]] | None = None,
) -> Written:
    """``commit``, or with ``check`` for items (unique ids) not checked against ``h.seen`` yet:
    only the new ones remembered and their rows recorded (``Written.items``). With ``aheads``
    (the straight steps' inputs of the first rows, in their order, judged by the silences
    ``known``: ``known_silences``, by default the latest) the write on one Redis takes those
    steps too when it can (``handoff_lua``)."""
    client = _one_client(h)
    if client is not None:
        known = known or known_silences()
        return _write(client, h, rows, items, done, check=check, aheads=aheads, known=known)
    if not check:
        return Written(*_one_by_one(h, rows, items, done), list(items))
    unseen = set(h.seen.unseen([item.id for item in items]))
    fresh = [item for item in items if item.id in unseen]
    recorded, muted = _one_by_one(h, [r for r in rows if r.item_id in unseen], fresh, done)
    return Written(recorded, muted, fresh)


def _write(
    client: redis.Redis,
    h: Stores,
    rows: Sequence[DeliveryRow],
    items: Sequence[Item],
    done: tuple[str, ...],
    *,
    check: bool,
    aheads: Sequence[Ahead],
    known: tuple[str, list[Silence]],
) -> Written:
    """The script's write (``handoff_lua``); ``check``: keep only the items not seen yet."""
    ledger, silences = h.delivery.store.ledger, h.delivery.store.silences
    archive, seen = h.archive, h.seen
    assert isinstance(ledger, RedisLedger) and isinstance(silences, RedisSilences)
    assert isinstance(archive, RedisItemArchive) and isinstance(seen, RedisSeenStore)
    now = h.clock()
    cutoff = archive.trim_due(now) if items else None
    keys: list[str] = [archive.index, INTAKE_KEY, silences.key]
    args: list[Any] = [len(items), "1" if check else "0", archive.ttl()]
    release = RELEASE_SEP.join(done) if h.intake is not None else ""
    step, aheads = _steps(h, rows, aheads, check)
    args += [now.timestamp(), "" if cutoff is None else cutoff, release, len(step[0]), known[0]]
    at: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        at[item.id] = n
        keys.append(archive.key(item.id))  # its seen mark too (``dedup``)
        args += [item.id, _ITEM_JSON(item)]  # ``model_dump_json``'s bytes, not decoded
    for row in rows:
        row_keys, row_args = ledger.keys_args("insert", row)
        keys += row_keys
        args += [at.get(row.item_id, 0), *row_args]
    flags, written, muted, tooks, same = _run(client, [*keys, *step[0]], [*args, *step[1]])
    fresh = [item for item, flag in zip(items, flags, strict=True) if int(flag)]
    recorded = [
        inserted(reply) or row
        for row, reply in zip(rows, written, strict=True)
        if int(reply[0]) != 5
    ]
    stored = known[1] if int(same) else _silences(muted)
    steps: Steps = {}
    for ahead, took in zip(aheads, tooks, strict=True):
        done_step = stepped(took, ahead)
        if done_step is not None:
            steps[ahead.sending.id] = (ahead, done_step)
    return Written(recorded, stored, fresh, steps)


def _silences(muted: list[bytes]) -> list[Silence]:
    """The silences of the hash as read (id, JSON, ...), remembered by its digest."""
    raw = [v if isinstance(v, bytes) else str(v).encode() for v in muted]
    found = from_hash(dict(zip(raw[::2], raw[1::2], strict=True)))
    _KNOWN[0] = (hashlib.sha1(b"\0".join(raw)).hexdigest() if raw else "", found)
    return found


def _steps(
    h: Stores, rows: Sequence[DeliveryRow], aheads: Sequence[Ahead], check: bool
) -> tuple[tuple[list[str], list[Any]], list[Ahead]]:
    """The steps' keys and arguments (``handoff_lua``) and the aheads they are for: those of
    the first rows, in order, up to the first that is not its row's (none: no step)."""
    keys: list[str] = []
    args: list[Any] = []
    placed: set[tuple[str, str]] = set()
    taken: list[Ahead] = []
    for n, (row, ahead) in enumerate(zip(rows, aheads, strict=False)):
        if ahead.sending.id != row.id:
            break
        # a checked item that is new was placed nowhere yet: its placement is not looked up
        # (but by its first row's step: another channel's row of it looks it up)
        fresh = check and (row.watch, row.item_id) not in placed
        placed.add((row.watch, row.item_id))
        found = step_keys_args(h.delivery.store, ahead, fresh=fresh)
        if found is None:
            return ([], []), []
        step_keys, step_args = found
        keys += step_keys
        args += [n, len(step_keys) - 4, *step_args]
        taken.append(ahead)
    return (keys, args), taken


def _run(client: redis.Redis, keys: list[str], args: list[Any]) -> Any:
    """The script by digest; its text when Redis does not know it (NOSCRIPT wrote nothing)."""
    try:
        return client.evalsha(COMMIT_SHA, len(keys), *keys, *args)
    except NoScriptError:
        return client.eval(COMMIT_SCRIPT, len(keys), *keys, *args)


def _one_by_one(
    h: Stores, rows: Sequence[DeliveryRow], items: Sequence[Item], done: tuple[str, ...]
) -> tuple[list[DeliveryRow], list[Silence]]:
    store = h.delivery.store
    recorded = [store.ledger.insert(row) or row for row in rows]
    if items:
        dedup.remember(items, seen=h.seen, archive=h.archive, now=h.clock())
    intake = h.intake
    if intake is not None:
        for bulletin in done:
            intake.done(bulletin)
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
