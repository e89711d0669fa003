"""The story index's Lua (see ``stories.RedisStories``): look up, start, and both in one call.

Per watch, LSH bands live in one hash per generation (a window long): field = band key, value
= the ids of the stories started in that band, NUL-separated. A lookup reads the current and
the previous generation (every story younger than the window is in one of them); a generation
key expires by itself two windows on, so nothing trims an index. A story's signature is its
own key, "start|sig", expiring with the window as well. A new story costs about 6 commands
(it was about 55: 16 SMEMBERS, 16 SADD, 18 EXPIRE, ...), a follow-up about 5. ``PLACE`` keeps
no item key for an item that starts a story: its story's signature key (same TTL) says so.

``PLACE`` does what ``stages.assign_story`` does with ``find`` + ``best_match`` + ``assign``
(the similarity is the share of equal 64-bit MinHash values, as ``stories.similarity``): one
round trip per delivery instead of two.
"""

from __future__ import annotations

# Shared functions. fresh(): the item's story if it has one (its item key, or the signature of
# the story ``own`` it started: such an item keeps no item key), else the stories sharing a band,
# started since ``since``, sorted by id, with their signatures. start(): a new story.
_PRELUDE = """
local function marked(bands)
  local fields = {unpack(bands)}
  fields[#fields + 1] = '_'
  return fields
end

local function fresh(item, own, gens, since, prefix, bands)
  if item ~= '' then
    -- A follow-up's item key, or the signature of the story the item started (named ``own``).
    local known = redis.call('MGET', item, prefix .. own)
    if known[1] then return known[1], {}, {} end
    if known[2] then return own, {}, {} end
  end
  local seen, keys, read = {}, {}, {}
  for _, gen in ipairs(gens) do
    -- The bands, then the generation's marker field (set with its TTL when it was created).
    read[gen] = redis.call('HMGET', gen, unpack(marked(bands)))
    for b = 1, #bands do
      local packed = read[gen][b]
      if packed then
        for id in string.gmatch(packed, '([^%z]+)') do
          if not seen[id] then seen[id] = true; keys[#keys + 1] = prefix .. id end
        end
      end
    end
  end
  if #keys == 0 then return false, {}, {}, read end
  table.sort(keys)
  local ids, sigs = {}, {}
  for i, v in ipairs(redis.call('MGET', unpack(keys))) do
    if v then
      local bar = string.find(v, '|', 1, true)
      if tonumber(string.sub(v, 1, bar - 1)) >= since then
        ids[#ids + 1] = string.sub(keys[i], #prefix + 1)
        sigs[#sigs + 1] = string.sub(v, bar + 1)
      end
    end
  end
  return false, ids, sigs, read
end

-- ``read``: the generations' bands as ``fresh`` read them (the new story's generation is
-- usually the current one: no second HMGET). A generation hash gets its TTL once, when it is
-- created (no marker field yet), which outlives the two windows it is read in.
local function start(gen, sigkey, story, ttl, stamped, genttl, bands, read)
  local cur = (read and read[gen]) or redis.call('HMGET', gen, unpack(marked(bands)))
  local put = {}
  for i, band in ipairs(bands) do
    put[#put + 1] = band
    put[#put + 1] = (cur[i] or '') .. story .. '\\0'
  end
  if cur[#bands + 1] then
    redis.call('HSET', gen, unpack(put))
  else
    redis.call('HSET', gen, '_', '1', unpack(put))
    redis.call('EXPIRE', gen, genttl)
  end
  redis.call('SET', sigkey, stamped, 'EX', ttl)
end
"""

# KEYS: item (or ""), generation, previous generation; ARGV: since, sig key prefix, the story
# the item would start, bands... Returns {known story} or {false, {id, sig, id, sig, ...}}.
FIND = (
    _PRELUDE
    + """
local known, ids, sigs = fresh(KEYS[1], ARGV[3], {KEYS[2], KEYS[3]}, tonumber(ARGV[1]), ARGV[2],
  {unpack(ARGV, 4)})
if known then return {known, {}} end
local out = {}
for i, id in ipairs(ids) do out[#out + 1] = id; out[#out + 1] = sigs[i] end
return {false, out}
"""
)

# KEYS: item, generation and sig key (a new story only); ARGV: story, TTL, "start|sig",
# generation TTL, bands...
ASSIGN = (
    _PRELUDE
    + """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if #KEYS > 1 then start(KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], ARGV[4], {unpack(ARGV, 5)}) end
return 1
"""
)

# KEYS: item, generation, previous generation, the new story's generation, its sig key.
# ARGV: since, sig key prefix, new story id, TTL, "start|sig", generation TTL, threshold,
# sig, thread key prefix ("" for none), channel, fresh ("1": the item was just found new, so
# nothing placed it: its item key and own signature are not read), bands... Returns {the
# item's story id, the story's thread ref on the channel or false}: the thread is read for a
# follow-up only (a new story has none yet), so a follow-up's delivery needs no second round
# trip to thread it.
PLACE_BODY = """
local bands = {unpack(ARGV, 12)}
local function placed(story)
  if story == ARGV[3] or ARGV[9] == '' then return {story, false} end
  return {story, redis.call('GET', ARGV[9] .. story .. '|' .. ARGV[10])}
end
local item = ARGV[11] == '1' and '' or KEYS[1]
local known, ids, sigs, read = fresh(item, ARGV[3], {KEYS[2], KEYS[3]}, tonumber(ARGV[1]),
  ARGV[2], bands)
if known then return placed(known) end
local sig, best, top = ARGV[8], nil, -1
for i, other in ipairs(sigs) do
  local same = 0
  for j = 1, #sig, 8 do
    if string.sub(sig, j, j + 7) == string.sub(other, j, j + 7) then same = same + 1 end
  end
  if same > top then best, top = ids[i], same end
end
local story = ARGV[3]
if best and top / (#sig / 8) >= tonumber(ARGV[7]) then
  story = best
  redis.call('SET', KEYS[1], story, 'EX', ARGV[4])
else
  start(KEYS[4], KEYS[5], story, ARGV[4], ARGV[5], ARGV[6], bands, read)
end
return placed(story)
"""
PLACE = _PRELUDE + PLACE_BODY
