"""Story and claim in one step, for a delivery that nothing can hold back but a follow-up.

When no story silence exists, the watch sends immediately (no digest, no quiet hours now, no
throttle) and the channel is not paced, the only thing the story can still change is whether
the item follows up an earlier one (then a thread or the digest decides). So the story
placement and the claim (``begin``) run as one Lua script: the story is placed and, when it is
the item's own, the row is claimed and written ``sending`` with it. A follow-up comes back
unclaimed and takes the ordinary path with its story known. One round trip instead of two.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis

from alerts.delivery.ledger import Begun, DeliveryRow
from alerts.delivery.ledger_lua import LEDGER_SCRIPT
from alerts.delivery.redis_ledger import RedisLedger, begun_of, claim_args
from alerts.delivery.store import DeliveryStore
from alerts.delivery.stories import Placement, RedisStories
from alerts.delivery.stories_lua import _PRELUDE, PLACE_BODY

# KEYS: the story's (PLACE), then the ledger's. ARGV: how many keys and arguments the story
# takes, its arguments, then the ledger's (mode ``begin``). Returns {0, story, thread ref}
# for a follow-up (nothing claimed), else {1, begin's code, begin's value}.
STRAIGHT = f"""{_PRELUDE}
local function place(KEYS, ARGV)
{PLACE_BODY}
end
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
local nk, na = tonumber(ARGV[1]), tonumber(ARGV[2])
local pargs = {{unpack(ARGV, 3, 2 + na)}}
local story = place({{unpack(KEYS, 1, nk)}}, pargs)
if story[1] ~= pargs[3] then return {{0, story[1], story[2]}} end
local begun = ledger({{unpack(KEYS, nk + 1)}}, {{unpack(ARGV, 3 + na)}})
return {{1, begun[1], begun[2]}}
"""

_SCRIPTS: dict[int, Any] = {}


def place_and_begin(
    store: DeliveryStore,
    sig: bytes,
    new: Placement,
    sending: DeliveryRow,
    token: str,
    lease_seconds: float,
    now: datetime,
) -> tuple[str, str | None, Begun | None]:
    """The item's story, a follow-up's thread ref, and ``begin_send``'s outcome when the story
    is the item's own (None for a follow-up: nothing was claimed)."""
    ledger, stories = store.ledger, store.stories
    watch, item_id = sending.watch, sending.item_id
    if not (isinstance(ledger, RedisLedger) and isinstance(stories, RedisStories)) or (
        ledger.r is not stories.r
    ):
        story, thread = stories.place_threaded(watch, item_id, sig, new)
        if story != new.story:
            return story, thread, None
        return story, None, ledger.begin_send(sending, token, lease_seconds, now)
    pk, pa = stories.place_keys_args(watch, item_id, sig, new)
    lk, la = ledger.keys_args("begin", sending, claim=claim_args(token, lease_seconds, now))
    flag, first, second = _script(ledger.r)(keys=[*pk, *lk], args=[len(pk), len(pa), *pa, *la])
    if int(flag) == 0:
        return _text(first), _text(second) if second else None, None
    return new.story, None, begun_of(first, second)


def _script(client: redis.Redis) -> Any:
    key = id(client)
    if key not in _SCRIPTS:
        _SCRIPTS[key] = client.register_script(STRAIGHT)
    return _SCRIPTS[key]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
