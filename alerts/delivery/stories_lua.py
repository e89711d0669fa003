"""The story index's Lua (see ``stories.RedisStories``): look up, start, and both in one call.

Per watch, LSH bands live in one hash per generation (a window long): field = band key, value
= the ids of the stories started in that band, NUL-separated; a story's signature, "start|sig",
is the field ``s:<story>`` of the same hash, written with its bands in one HSET (it was a key
of its own: one SET more per story). A lookup reads the current and the previous generation
(every story younger than the window is in one of them); a generation key expires by itself
two windows on, so nothing trims an index. A new story costs about 5 commands (it was about
55: 16 SMEMBERS, 16 SADD, 18 EXPIRE, ...), a follow-up about 5. ``PLACE`` keeps no item key for
an item that starts a story: its story's signature field says so (read with the bands).

``PLACE`` does what ``stages.assign_story`` does with ``find`` + ``best_match`` + ``assign``
(the similarity is the share of equal 64-bit MinHash values, as ``stories.similarity``): one
round trip per delivery instead of two.
"""

from __future__ import annotations

# Shared functions. fresh(): the item's story if it has one (its item key, or the signature of
# the story ``own`` it started: such an item keeps no item key), else the stories sharing a band,
# started since ``since``, sorted by id, with their signatures. start(): a new story.
_PRELUDE = """
local function marked(bands, extra)
  local fields = {unpack(bands)}
  fields[#fields + 1] = '_'
  if extra then fields[#fields + 1] = extra end
  return fields
end

-- The signatures of ``ids`` (``where[id]``: the generation whose bands list it), by id. A story
-- started before signatures moved into the generations has a key of its own (``prefix .. id``):
-- read only for an id whose field is missing, so only while such stories are in the window.
local function signatures(ids, where, gens, prefix)
  local vals, old = {}, {}
  for _, gen in ipairs(gens) do
    local mine, fields = {}, {}
    for _, id in ipairs(ids) do
      if where[id] == gen then mine[#mine + 1] = id; fields[#fields + 1] = 's:' .. id end
    end
    if #fields > 0 then
      for i, v in ipairs(redis.call('HMGET', gen, unpack(fields))) do
        if v then vals[mine[i]] = v else old[#old + 1] = mine[i] end
      end
    end
  end
  if #old > 0 then
    local keys = {}
    for i, id in ipairs(old) do keys[i] = prefix .. id end
    for i, v in ipairs(redis.call('MGET', unpack(keys))) do
      if v then vals[old[i]] = v end
    end
  end
  return vals
end

local function fresh(item, own, gens, since, prefix, bands)
  if item ~= '' then
    local known = redis.call('GET', item)  -- a follow-up's item key
    if known then return known, {}, {} end
  end
  local where, ids, read = {}, {}, {}
  for _, gen in ipairs(gens) do
    -- The bands, the generation's marker field (set with its TTL when it was created) and,
    -- unless the item is known new, the signature of the story it would have started.
    read[gen] = redis.call('HMGET', gen, unpack(marked(bands, item ~= '' and 's:' .. own)))
  end
  for _, gen in ipairs(gens) do
    if item ~= '' and read[gen][#bands + 2] then return own, {}, {} end
    for b = 1, #bands do
      local packed = read[gen][b]
      if packed then
        for id in string.gmatch(packed, '([^%z]+)') do
          if not where[id] then where[id] = gen; ids[#ids + 1] = id end
        end
      end
    end
  end
  if #ids == 0 then return false, {}, {}, read end
  table.sort(ids)
  local vals = signatures(ids, where, gens, prefix)
  local found, sigs = {}, {}
  for _, id in ipairs(ids) do
    local v = vals[id]
    if v then
      local bar = string.find(v, '|', 1, true)
      if tonumber(string.sub(v, 1, bar - 1)) >= since then
        found[#found + 1] = id
        sigs[#sigs + 1] = string.sub(v, bar + 1)
      end
    end
  end
  return false, found, sigs, read
end

-- ``read``: the generations' bands as ``fresh`` read them (the new story's generation is
-- usually the current one: no second HMGET). A generation hash gets its TTL once, when it is
-- created (no marker field yet), which outlives the two windows it is read in. The story's
-- signature ("start|sig") is a field of the same hash, written with its bands.
local function start(gen, story, stamped, genttl, bands, read)
  local cur = (read and read[gen]) or redis.call('HMGET', gen, unpack(marked(bands)))
  local put = {'s:' .. story, stamped}
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

# KEYS: item, generation (a new story only); ARGV: story, TTL, "start|sig", generation TTL,
# bands...
ASSIGN = (
    _PRELUDE
    + """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if #KEYS > 1 then start(KEYS[2], ARGV[1], ARGV[3], ARGV[4], {unpack(ARGV, 5)}) end
return 1
"""
)

# KEYS: item, generation, previous generation, the new story's generation.
# ARGV: since, sig key prefix, new story id, TTL, "start|sig", generation TTL, threshold,
# sig, thread key prefix ("" for none), channel, fresh ("1": the item was just found new, so
# nothing placed it: its item key and own signature are not read), the bands in one argument,
# space-separated (one argument, not sixteen: each costs the client an encoding and the
# script a string of its own). Returns {the
# item's story id, the story's thread ref on the channel or false}: the thread is read for a
# follow-up only (a new story has none yet), so a follow-up's delivery needs no second round
# trip to thread it.
PLACE_BODY = """
local bands = {}
for band in string.gmatch(ARGV[12], '%S+') do bands[#bands + 1] = band end
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
  start(KEYS[4], story, ARGV[5], ARGV[6], bands, read)
end
return placed(story)
"""
PLACE = _PRELUDE + PLACE_BODY
