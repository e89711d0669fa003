"""The hand-on's one write as one Lua script, called by its digest (``handoff_commit``).

One script, not a pipeline of commands around it: a script called by digest (EVALSHA) that
Redis does not know (after a restart, a flush) fails with NOSCRIPT and writes nothing, so the
caller sends its text and nothing has run twice or halfway. In a pipeline the commands queued
behind a NOSCRIPT would run all the same (the bulletin released from the intake without its
records), which is why the records were sent as EVAL, the whole script text on every item.

KEYS: 1 the archive index, 2 the intake hash, 3 the silences hash; per item its seen key (its
archived JSON is its mark: ``dedup``); per row its four ledger keys (``RedisLedger.keys_args``);
then the first row's straight step's keys, if any: the story's four (``PLACE``), the pacing's
two (``TAKE``) or none.
ARGV: 1 the item count, 2 check "1"/"0" (keep only the items not seen yet, by ``SET NX``; else
archive and mark every one), 3 the archive TTL, 4 the ingest score, 5 the archive trim cutoff
or "" (not due), 6 the bulletins to release from the intake, NUL-separated ("" none), 7 the
step's key count (0: no step), 8 the digest of the silences the caller knows ("" none:
``handoff_commit``); then per item its id and JSON; then per row its item's position
(1-based; without the check every row is recorded) and its 16 ledger arguments (mode
``insert``); then the step's: the story's argument count, the pacing's, the row's value
claimed and ``sending`` (claim and JSON), the story's arguments, the pacing's.
Returns {1/0 per item (new), per row the ledger's reply or {5, ""} (its item was seen: not
recorded), the silences hash as HGETALL gives it (empty when the caller knows it: its digest
matched), the step's reply (``_STEP``), 1/0 the digest matched}.

The step (one round trip less per alerting item: the story, pacing and claim of ``straight``
rode in a script of their own) is tried for the first row only, when its item is new (or not
checked) and the silences stored are those the caller judged it by (the digest of the hash
matches; any change, even one ending a silence, sends it the ordinary path). Its row is
inserted ``sending`` with the claim, at the wake time of its ``pending`` form (the caller's
claim keeps it), so a crash before the send leaves a row the reconciler wakes a lease on, as
after ``begin``. A follow-up or a wait inserts the row ``pending``, untouched. A row found
there already (a write not checking its items, a redelivered task) is not claimed ({3}); its
story was placed all the same (placing is idempotent) and, on a paced channel, a token taken
(rare).

The order inside is the at-least-once guarantee's (``handoff``): an item is checked, archived
and marked seen by one SET NX, then the rows of the new items are recorded, their index entries
written, and the bulletin released last. Redis runs the script atomically, so the records and
the marks land together; a seen item is not archived again (it was when it was new).
"""

from __future__ import annotations

import hashlib

from alerts.delivery.ledger_lua import LEDGER_ARGS, LEDGER_SCRIPT
from alerts.delivery.straight import PLACE_TAKE

RELEASE_SEP = "\0"  # between the bulletins to release (ARGV 6): ids never hold a NUL
ROW_ARGS = 1 + LEDGER_ARGS  # per row: its item's position, then the ledger's arguments
HEAD_KEYS, HEAD_ARGS = 3, 8  # the keys and arguments before the items'

# The first row's straight step (``straight``), before its insert: its story placed and, when
# the story is the item's own, the pacing token taken; with none to wait for, the row is
# inserted ``sending`` under its claim (ARGV ``value``) instead of ``pending``.
# Returns {-1} not tried, else as ``straight.STRAIGHT``: {0, story, thread ref} a follow-up,
# {2, ms, ""} a wait, {1} claimed; {3} the row was there already (nothing claimed: its caller
# judges the row it found).
_STEP = f"""{PLACE_TAKE}
local function step(last, at, rargs)
  local na = tonumber(ARGV[at])
  local stop = place_take({{unpack(KEYS, last + 1, last + 4)}},
    {{unpack(ARGV, at + 3, at + 2 + na)}}, {{unpack(KEYS, last + 5, last + 6)}},
    {{unpack(ARGV, at + 3 + na)}})
  if stop then return stop end
  rargs[2], rargs[3] = ARGV[at + 2], 'sending'
  return {{1}}
end
"""

COMMIT_SCRIPT = f"""
local function ledger(KEYS, ARGV)
{LEDGER_SCRIPT}
end
{_STEP}
local n, check, ns = tonumber(ARGV[1]), ARGV[2] == '1', tonumber(ARGV[7])
local muted = redis.call('HGETALL', KEYS[3])
local known = ARGV[8] == (#muted == 0 and '' or redis.sha1hex(table.concat(muted, '\\0')))
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
local first, r, last, stepped = {HEAD_KEYS} + n, 0, #KEYS - ns, {{-1}}
local at = {HEAD_ARGS} + 2 * n + {ROW_ARGS} * (last - first) / 4 + 1  -- the step's arguments
while first + 4 * r < last do
  local k, a = first + 4 * r, {HEAD_ARGS} + 2 * n + {ROW_ARGS} * r
  if not check or new[tonumber(ARGV[a + 1])] then
    local rargs = {{unpack(ARGV, a + 2, a + {ROW_ARGS})}}
    if r == 0 and ns > 0 and known then stepped = step(last, at, rargs) end
    out[#out + 1] = ledger({{unpack(KEYS, k + 1, k + 4)}}, rargs)
    if r == 0 and stepped[1] >= 0 and out[1][1] ~= 1 then stepped = {{3}} end
  else
    out[#out + 1] = {{5, ''}}
  end
  r = r + 1
end
for i = 1, n do
  if new[i] then redis.call('ZADD', KEYS[1], ARGV[4], ARGV[{HEAD_ARGS - 1} + 2 * i]) end
end
if ARGV[5] ~= '' then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[5]) end
if ARGV[6] ~= '' then
  local ids = {{}}
  for id in string.gmatch(ARGV[6], '[^%z]+') do ids[#ids + 1] = id end
  redis.call('HDEL', KEYS[2], unpack(ids))
end
return {{flags, out, known and {{}} or muted, stepped, known and 1 or 0}}
"""
COMMIT_SHA = hashlib.sha1(COMMIT_SCRIPT.encode()).hexdigest()
