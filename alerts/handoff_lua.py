"""The hand-on's one write as one Lua script, called by its digest (``handoff_commit``).

One script, not a pipeline of commands around it: a script called by digest (EVALSHA) that
Redis does not know (after a restart, a flush) fails with NOSCRIPT and writes nothing, so the
caller sends its text and nothing has run twice or halfway. In a pipeline the commands queued
behind a NOSCRIPT would run all the same (the bulletin released from the intake without its
records), which is why the records were sent as EVAL, the whole script text on every item.

KEYS: 1 the archive index, 2 the intake hash, 3 the silences hash; per item its seen key (its
archived JSON is its mark: ``dedup``); per row its four ledger keys (``RedisLedger.keys_args``).
ARGV: 1 the item count, 2 check "1"/"0" (keep only the items not seen yet, by ``SET NX``; else
archive and mark every one), 3 the archive TTL, 4 the ingest score, 5 the archive trim cutoff
or "" (not due), 6 the bulletin to release from the intake or ""; then per item its id and
JSON; then per row its item's position (1-based; without the check every row is recorded) and
its 16 ledger arguments (mode ``insert``).
Returns {1/0 per item (new), per row the ledger's reply or {5, ""} (its item was seen: not
recorded), the silences hash as HGETALL gives it}.

The order inside is the at-least-once guarantee's (``handoff``): an item is checked, archived
and marked seen by one SET NX, then the rows of the new items are recorded, their index entries
written, and the bulletin released last. Redis runs the script atomically, so the records and
the marks land together; a seen item is not archived again (it was when it was new).
"""

from __future__ import annotations

import hashlib

from alerts.delivery.ledger_lua import LEDGER_SCRIPT

ROW_ARGS = 17  # per row: its item's position, then the ledger's 16 arguments
HEAD_KEYS, HEAD_ARGS = 3, 6  # the keys and arguments before the items'

COMMIT_SCRIPT = f"""
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
local n, check = tonumber(ARGV[1]), ARGV[2] == '1'
local new, flags, out = {{}}, {{}}, {{}}
for i = 1, n do
  local key, json = KEYS[{HEAD_KEYS} + i], ARGV[{HEAD_ARGS} + 2 * i]
  if check then
    new[i] = redis.call('SET', key, json, 'NX', 'EX', ARGV[3]) ~= false
  else
    redis.call('SET', key, json, 'EX', ARGV[3])
    new[i] = true
  end
  flags[i] = new[i] and 1 or 0
end
local first, r = {HEAD_KEYS} + n, 0
while first + 4 * r < #KEYS do
  local k, a = first + 4 * r, {HEAD_ARGS} + 2 * n + {ROW_ARGS} * r
  if not check or new[tonumber(ARGV[a + 1])] then
    out[#out + 1] = ledger({{unpack(KEYS, k + 1, k + 4)}}, {{unpack(ARGV, a + 2, a + {ROW_ARGS})}})
  else
    out[#out + 1] = {{5, ''}}
  end
  r = r + 1
end
for i = 1, n do
  if new[i] then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[{HEAD_ARGS - 1} + 2 * i]) end
end
if ARGV[5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HDEL', KEYS[2], ARGV[6]) end
return {{flags, out, redis.call('HGETALL', KEYS[3])}}
"""
COMMIT_SHA = hashlib.sha1(COMMIT_SCRIPT.encode()).hexdigest()
