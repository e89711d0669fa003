"""Story, pacing and claim in one step, for a delivery nothing can hold back but a follow-up.

When no story silence exists and the watch sends immediately (no digest, no quiet hours now,
no throttle), the only things left to decide before the send are whether the item follows up
an earlier one (then a thread or the digest decides) and the channel's pacing. So the story
placement, the pacing token and the claim (``begin``) run as one Lua script: the story is
placed and, when it is the item's own, a token is taken (paced channels) and, when none must
be waited for, the row is claimed and written ``sending``. A follow-up comes back untouched
(no token, no claim) and takes the ordinary path with its story known; a wait comes back
unclaimed. One round trip instead of two or three.

A new item's inline deliveries take the step inside the hand-on's write instead, no round trip
of their own (``handoff_lua``): ``Ahead`` holds one's inputs, made before the write,
``step_keys_args`` puts them in it, and ``stepped`` reads how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

from alerts.delivery.claim import claim_value
from alerts.delivery.ledger import Begun, DeliveryRow, row_json
from alerts.delivery.ledger_lua import LEDGER_SCRIPT
from alerts.delivery.limits import TAKE, Pace, RedisLimits
from alerts.delivery.redis_ledger import RedisLedger, begun_of, claim_args
from alerts.delivery.store import DeliveryStore
from alerts.delivery.stories import Placement, RedisStories
from alerts.delivery.stories_lua import _PRELUDE, PLACE_BODY
from alerts.rules.notify import NotifySpec

# KEYS: the story's (PLACE), the pacing's (TAKE, or none), the ledger's. ARGV: how many keys
# and arguments the story and the pacing take, the story's arguments, the pacing's, then the
# ledger's (mode ``begin``). Returns {0, story, thread ref} for a follow-up (nothing taken or
# claimed), {2, ms to wait, ""} when paced (nothing claimed), else {1, begin's code, value}.
# The story's and the pacing's scripts as functions ``place`` and ``take``, and the step both
# scripts take (here and in the hand-on's write: ``handoff_lua``): ``place_take`` places the
# story and, for the item's own, takes the pacing token (when it has pacing arguments); it
# returns {0, story, thread ref} for a follow-up, {2, ms to wait, ""} when paced, else nil.
PLACE_TAKE = f"""{_PRELUDE}
local function place(KEYS, ARGV)
{PLACE_BODY}
end
local function take(KEYS, ARGV)
{TAKE}
end
local function place_take(pkeys, pargs, qkeys, qargs)
  local story = place(pkeys, pargs)
  if story[1] ~= pargs[3] then return {{0, story[1], story[2]}} end
  if #qargs > 0 then
    local wait = take(qkeys, qargs)
    if wait > 0 then return {{2, wait, ''}} end
  end
  return nil
end
"""

STRAIGHT = f"""{PLACE_TAKE}
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
local nk, na, nq, nb = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local stop = place_take({{unpack(KEYS, 1, nk)}}, {{unpack(ARGV, 5, 4 + na)}},
  {{unpack(KEYS, nk + 1, nk + nq)}}, {{unpack(ARGV, 5 + na, 4 + na + nb)}})
if stop then return stop end
local begun = ledger({{unpack(KEYS, nk + nq + 1)}}, {{unpack(ARGV, 5 + na + nb)}})
return {{1, begun[1], begun[2]}}
"""

_SCRIPTS: dict[int, Any] = {}


@dataclass(frozen=True)
class Straight:
    """How the step ended: the item's story (and a follow-up's thread ref); ``begun`` is None
    for a follow-up or a wait of ``wait`` seconds (nothing claimed then)."""

    story: str
    thread: str | None = None
    begun: Begun | None = None
    wait: float = 0.0


@dataclass(frozen=True)
class Ahead:
    """The step's inputs for one delivery, made before the write that records its row, so the
    write can take the step too (``handoff_lua``): its route's ``spec``, the placement, the
    item's signature, the claim's token and the row as claimed (``sending``), the pacing."""

    spec: NotifySpec
    new: Placement
    sig: bytes
    token: str
    sending: DeliveryRow
    claim: tuple[str, float, datetime]
    pace: Pace | None = None


def step_keys_args(
    store: DeliveryStore, ahead: Ahead, *, fresh: bool
) -> tuple[list[str], list[Any]] | None:
    """The keys and arguments of the write's step (``handoff_lua``) for ``ahead``; None when
    the stores are not one Redis (the step is then taken by parts, after the write)."""
    redis_stores = _one_redis(store)  # the write runs on the ledger's Redis: all keys there
    if redis_stores is None:
        return None
    _, stories, limits = redis_stores
    row, (token, lease, now) = ahead.sending, ahead.claim
    (pk, pa), (qk, qa) = _place_take(
        stories, limits, row, ahead.sig, ahead.new, ahead.pace, now, fresh=fresh
    )
    value = claim_value(token, now, lease).encode() + row_json(row)
    return [*pk, *qk], [len(pa), len(qa), value, *pa, *qa]


def stepped(reply: Any, ahead: Ahead) -> Straight | None:
    """The write's step as ``place_and_begin`` would have ended it; None: not taken."""
    flag = int(reply[0])
    if flag in (0, 2):
        return _unclaimed(flag, reply[1], reply[2], ahead.new.story)
    if flag == 1:
        return Straight(ahead.new.story, begun=Begun("claimed"))
    return None


def place_and_begin(
    store: DeliveryStore,
    sig: bytes,
    new: Placement,
    sending: DeliveryRow,
    claim: tuple[str, float, datetime],
    pace: Pace | None = None,
    *,
    fresh: bool = False,
) -> Straight:
    """Place the item's story; for its own story take ``pace``'s token and, with none to wait
    for, ``begin_send`` ``sending`` with ``claim`` (token, lease seconds, now). ``fresh``: the
    item was placed nowhere yet (its placement is not looked up)."""
    token, lease, now = claim
    redis_stores = _one_redis(store)
    if redis_stores is None:
        return _by_parts(store, sig, new, sending, claim, pace)
    ledger, stories, limits = redis_stores
    (pk, pa), (qk, qa) = _place_take(stories, limits, sending, sig, new, pace, now, fresh=fresh)
    lk, la = ledger.keys_args("begin", sending, claim=claim_args(token, lease, now))
    keys = [*pk, *qk, *lk]
    flag, first, second = _script(ledger.r)(
        keys=keys, args=[len(pk), len(pa), len(qk), len(qa), *pa, *qa, *la]
    )
    if int(flag) in (0, 2):
        return _unclaimed(int(flag), first, second, new.story)
    return Straight(new.story, begun=begun_of(first, second))


def _unclaimed(flag: int, first: Any, second: Any, story: str) -> Straight:
    """A step that claimed nothing: {0, story, thread ref} a follow-up, {2, ms} a wait."""
    if flag == 0:
        return Straight(_text(first), _text(second) if second else None)
    return Straight(story, wait=int(first) / 1000)


def _by_parts(
    store: DeliveryStore,
    sig: bytes,
    new: Placement,
    sending: DeliveryRow,
    claim: tuple[str, float, datetime],
    pace: Pace | None,
) -> Straight:
    """The same steps one by one (the memory stores; the reference for the Lua)."""
    token, lease, now = claim
    story, thread = store.stories.place_threaded(sending.watch, sending.item_id, sig, new)
    if story != new.story:
        return Straight(story, thread)
    if pace is not None:
        wait = store.limits.take_token(pace.name, now, pace.rate, pace.burst, pace.member)
        if wait > 0:
            return Straight(story, wait=wait)
    return Straight(story, begun=store.ledger.begin_send(sending, token, lease, now))


def _one_redis(store: DeliveryStore) -> tuple[RedisLedger, RedisStories, RedisLimits] | None:
    """The ledger, stories and limits when all three are on one Redis client, else None."""
    ledger, stories, limits = store.ledger, store.stories, store.limits
    if (
        isinstance(ledger, RedisLedger)
        and isinstance(stories, RedisStories)
        and isinstance(limits, RedisLimits)
        and ledger.r is stories.r is limits.r
    ):
        return ledger, stories, limits
    return None


KeysArgs = tuple[list[str], list[Any]]


def _place_take(
    stories: RedisStories,
    limits: RedisLimits,
    row: DeliveryRow,
    sig: bytes,
    new: Placement,
    pace: Pace | None,
    now: datetime,
    *,
    fresh: bool,
) -> tuple[KeysArgs, KeysArgs]:
    """The story placement's keys and arguments, and the pacing token's (none unpaced)."""
    place = stories.place_keys_args(row.watch, row.item_id, sig, new, fresh=fresh)
    if pace is None:
        return place, ([], [])
    return place, limits.take_keys_args(pace.name, now, pace.rate, pace.burst, pace.member)


def _script(client: redis.Redis) -> Any:
    key = id(client)
    if key not in _SCRIPTS:
        _SCRIPTS[key] = client.register_script(STRAIGHT)
    return _SCRIPTS[key]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
