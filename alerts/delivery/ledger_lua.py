"""The ledger's Lua: one script writes a row and its indexes, with the claim when asked.

One round trip instead of WATCH, GET, MULTI ... EXEC (and a separate claim, re-read, release):
a delivery used to spend about 40 Redis commands in 12 round trips on its ledger; now it spends
three round trips (look up, begin, finish). Redis runs a script atomically, so the demotion rule
and the claim-then-re-read need no WATCH loop.

KEYS: row, idx:all, idx:watch:W, wake, claim.
ARGV: 1 mode (save | insert | begin | finish), 2 row JSON, 3 status, 4 row id, 5 created score,
6 TTL seconds, 7 trim cutoff ("(score"), 8 wake score or "", 9 force "1"/"0", 10 status-index
key prefix, 11 claim value, 12 now ms, 13 holder prefix, 14 lease ms, 15 possible_duplicate
(claims as ``alerts.delivery.claim`` encodes them). Mode ``release`` only drops the claim.

Replies: {1, ""} written; {0, status or row} refused (a final row would be demoted, or ``insert``
found a row: then the row's JSON); {2, ms} claim held by another, ms left; {3, status} the row
is final already (claim dropped); {4, ""} the row was left ``sending`` by a lapsed claim and the
caller did not flag it a possible duplicate (claim kept, nothing written).

The final statuses and the claim separator are written in from the Python that owns them.
"""

from __future__ import annotations

from alerts.delivery.claim import SEP
from alerts.delivery.ledger import FINAL

_TEMPLATE = """
local FINAL = {@FINAL@}
local mode, status, id = ARGV[1], ARGV[3], ARGV[4]

local function release()
  local held = redis.call('GET', KEYS[5])
  local t = ARGV[13]
  if held and string.sub(held, 1, string.len(t)) == t then redis.call('DEL', KEYS[5]) end
end

if mode == 'release' then release() return {1, ''} end
local cur = redis.call('GET', KEYS[1])
if mode == 'insert' and cur then return {0, cur} end
local old, woke = nil, false
if cur then
  local row = cjson.decode(cur)
  old, woke = row['status'], row['wake_at'] ~= cjson.null and row['wake_at'] ~= nil
end
if mode == 'begin' then
  local now = tonumber(ARGV[12])
  local held = redis.call('GET', KEYS[5])
  if held then
    local exp = tonumber(string.match(held, '@SEP@(%d+)$'))
    if exp and exp > now then return {2, exp - now} end
  end
  redis.call('SET', KEYS[5], ARGV[11], 'PX', ARGV[14])
  if old and FINAL[old] then redis.call('DEL', KEYS[5]) return {3, old} end
  if old == 'sending' and ARGV[15] ~= '1' then return {4, ''} end
end
if old and ARGV[9] ~= '1' and FINAL[old] and not FINAL[status] then
  if mode == 'finish' then release() end
  return {0, old}
end

redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[6])
local skey = ARGV[10] .. status
-- Rows expire after the TTL (SET EX above); an index entry older than that goes when a new
-- row enters the index (idx:all, the watch's, a final status's), so each write touches only
-- what changed: the time indexes once per row, a status index on a status change.
local trim = {}
if not cur then
  redis.call('ZADD', KEYS[2], ARGV[5], id)
  redis.call('ZADD', KEYS[3], ARGV[5], id)
  trim = {KEYS[2], KEYS[3]}
end
-- Every status has an index (the metrics count pending rows and read the oldest one).
if old ~= status then
  if old then redis.call('ZREM', ARGV[10] .. old, id) end
  redis.call('ZADD', skey, ARGV[5], id)
  if FINAL[status] or not cur then trim[#trim + 1] = skey end
end
for _, k in ipairs(trim) do
  redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[7])
end
if ARGV[8] == '' then
  if woke then redis.call('ZREM', KEYS[4], id) end
else
  redis.call('ZADD', KEYS[4], ARGV[8], id)
end
if mode == 'finish' then release() end
return {1, ''}
"""


def final_table(final: frozenset[str]) -> str:
    """The Lua table body for a set of statuses: ``dead=true, sent=true``."""
    return ", ".join(f"{status}=true" for status in sorted(final))


LEDGER_SCRIPT = _TEMPLATE.replace("@FINAL@", final_table(FINAL)).replace("@SEP@", "%" + SEP)
