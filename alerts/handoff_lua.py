"""The hand-on's one write as one Lua script, called by its digest (``handoff_commit``).

One script, not a pipeline of commands around it: a script called by digest (EVALSHA) that
Redis does not know (after a restart, a flush) fails with NOSCRIPT and writes nothing, so the
caller sends its text and nothing has run twice or halfway. In a pipeline the commands queued
behind a NOSCRIPT would run all the same (the bulletin released from the intake without its
records), which is why the records were sent as EVAL, the whole script text on every item.

KEYS: 1 the archive index, 2 the intake hash, 3 the silences hash; per item its seen key (its
archived JSON is its mark: ``dedup``); per row its four ledger keys (``RedisLedger.keys_args``);
then each straight step's keys, in its row's order: the story's four (``PLACE``), the pacing's
two (``TAKE``) or none.
ARGV: 1 the item count, 2 check "1"/"0" (keep only the items not seen yet, by ``SET NX``; else
archive and mark every one), 3 the archive TTL, 4 the ingest score, 5 the archive trim cutoff
or "" (not due), 6 the bulletins to release from the intake, NUL-separated ("" none), 7 the
steps' key count (0: no step), 8 the digest of the silences the caller knows ("" none:
``handoff_commit``); then per item its id and JSON; then per row its item's position
(1-based; without the check every row is recorded) and its 16 ledger arguments (mode
``insert``); then per step: its row's index (0-based, rising), the pacing's key count, the
story's argument count, the pacing's, the row's value claimed and ``sending`` (claim and
JSON), the story's arguments, the pacing's.
Returns {1/0 per item (new), per row the ledger's reply or {5, ""} (its item was seen: not
recorded), the silences hash as HGETALL gives it (empty when the caller knows it: its digest
matched), per step its reply (``_STEP``), 1/0 the digest matched}.

The steps (one round trip less per inline delivery: the story, pacing and claim of
``straight`` rode in a script of their own) are tried for the rows the caller gives them for
(the first rows it will send inline: ``handoff``), when their items are new (or not checked)
and the silences stored are those the caller judged them by (the digest of the hash matches;
any change, even one ending a silence, sends them all the ordinary path). They run in the
rows' order, each before its row's insert, so a later row of the same story finds the earlier
one placed, as one by one. Once one ends in a follow-up or finds its row there, the later
rows' steps are not tried: their deliveries take them after the sends before them (a
follow-up's own token is taken after the story's stages, so a later row's token must not be
taken ahead of it). A row stepped is inserted ``sending`` with the claim, at the wake time of
its ``pending`` form (the caller's claim keeps it), so a crash before the send leaves a row
the reconciler wakes a lease on, as after ``begin``. A follow-up or a wait inserts the row
``pending``, untouched. A row found there already (a write not checking its items, a
redelivered task) is not claimed ({3}); its story was placed all the same (placing is
idempotent) and, on a paced channel, a token taken (rare).

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

# A row's straight step (``straight``), before its insert: its story placed and, when the story
# is the item's own, the pacing token taken; with none to wait for, the row is inserted
# ``sending`` under its claim (the step's ``value``) instead of ``pending``. ``k``, ``a``: where
# the step's keys and arguments start (its row's index, its pacing key count, the story's
# argument count, the pacing's, the value, the story's arguments, the pacing's).
# Returns {-1} not tried, else as ``straight.STRAIGHT``: {0, story, thread ref} a follow-up,
# {2, ms, ""} a wait, {1} claimed; {3} the row was there already (nothing claimed: its caller
# judges the row it found).
_STEP = f"""{PLACE_TAKE}
local function step(k, a, rargs)
  local nqk, na = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  local stop = place_take({{unpack(KEYS, k + 1, k + 4)}},
    {{unpack(ARGV, a + 5, a + 4 + na)}}, {{unpack(KEYS, k + 5, k + 4 + nqk)}},
    {{unpack(ARGV, a + 5 + na, a + 4 + na + tonumber(ARGV[a + 3]))}})
  if stop then return stop end
  rargs[2], rargs[3] = ARGV[a + 4], 'sending'
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
local first, r, last = {HEAD_KEYS} + n, 0, #KEYS - ns
-- the steps' keys and arguments (``k``, ``a``: the next step's), in their rows' order; they
-- are taken while each ends claimed or waiting (a follow-up or a row found: the rest are not)
local k, a = last, {HEAD_ARGS} + 2 * n + {ROW_ARGS} * (last - first) / 4 + 1
local steps, going = {{}}, known
local at = ns > 0 and tonumber(ARGV[a]) or -1  -- the next step's row
while first + 4 * r < last do
  local rk, ra = first + 4 * r, {HEAD_ARGS} + 2 * n + {ROW_ARGS} * r
  local took = nil
  if not check or new[tonumber(ARGV[ra + 1])] then
    local rargs = {{unpack(ARGV, ra + 2, ra + {ROW_ARGS})}}
    if r == at and going then took = step(k, a, rargs) end
    out[#out + 1] = ledger({{unpack(KEYS, rk + 1, rk + 4)}}, rargs)
    if took and out[#out][1] ~= 1 then took = {{3}} end
    if took and took[1] ~= 1 and took[1] ~= 2 then going = false end
  else
    out[#out + 1] = {{5, ''}}
  end
  if r == at then
    steps[#steps + 1] = took or {{-1}}
    local nqk = tonumber(ARGV[a + 1])
    k, a = k + 4 + nqk, a + 5 + tonumber(ARGV[a + 2]) + tonumber(ARGV[a + 3])
    at = k < #KEYS and tonumber(ARGV[a]) or -1
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
return {{flags, out, known and {{}} or muted, steps, known and 1 or 0}}
"""
COMMIT_SHA = hashlib.sha1(COMMIT_SCRIPT.encode()).hexdigest()
