"""Stories: near-duplicate items (headline + lead, MinHash) within a window are one story."""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import datetime
from typing import Protocol

import numpy as np
import redis
from datasketch import MinHash

from alerts.models import Item

NUM_PERM = 64
# 16 bands of 4 rows: two signatures become candidates from a Jaccard of about (1/16)**(1/4) = 0.5.
BANDS, ROWS = 16, 4
_WORD = re.compile(r"\w+", re.UNICODE)
# Generating the permutations is the slow part of a MinHash: do it once per process.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=7)


def shingles(item: Item, lead_words: int = 40) -> set[str]:
    """Words and word pairs of the headline and the first words of the body (the lead)."""
    text = f"{item.title} {item.summary or item.body}"
    words = [w.lower() for w in _WORD.findall(text)][: lead_words + 20]
    return set(words) | {f"{a} {b}" for a, b in itertools.pairwise(words)}


def signature(item: Item) -> bytes:
    """The MinHash signature of an item's headline and lead, as bytes."""
    mh = MinHash(num_perm=NUM_PERM, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme)
    mh.update_batch([s.encode("utf-8") for s in sorted(shingles(item))])  # vectorised: 4x faster
    return bytes(np.asarray(mh.hashvalues, dtype=np.uint64).tobytes())


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    va = np.frombuffer(a, dtype=np.uint64)
    vb = np.frombuffer(b, dtype=np.uint64)
    return float(np.mean(va == vb))


def bands(sig: bytes) -> list[str]:
    """The LSH band keys of a signature: band number and a short hash of its rows."""
    width = ROWS * 8
    return [
        f"{i}:{hashlib.blake2b(sig[i * width : (i + 1) * width], digest_size=8).hexdigest()}"
        for i in range(BANDS)
    ]


def best_match(sig: bytes, candidates: list[tuple[str, bytes]]) -> tuple[str, float] | None:
    """The candidate story most similar to ``sig`` and its similarity (one numpy pass)."""
    if not candidates:
        return None
    matrix = np.frombuffer(b"".join(c[1] for c in candidates), dtype=np.uint64)
    matrix = matrix.reshape(len(candidates), NUM_PERM)
    scores = (matrix == np.frombuffer(sig, dtype=np.uint64)).mean(axis=1)
    best = int(scores.argmax())
    return candidates[best][0], float(scores[best])


class StoryIndex(Protocol):
    """Recent story signatures per watch, item-to-story assignments, and thread refs."""

    def assigned(self, watch: str, item_id: str) -> str | None:
        """The story an item was already put in."""
        ...

    def candidates(self, watch: str, sig: bytes, since: datetime) -> list[tuple[str, bytes]]:
        """(story id, signature) of stories started since ``since`` that may be near ``sig``."""
        ...

    def assign(self, watch: str, item_id: str, story: str, sig: bytes | None, at: datetime) -> None:
        """Record that an item belongs to a story; ``sig`` is given when it starts the story."""
        ...

    def find(
        self, watch: str, item_id: str, sig: bytes, since: datetime
    ) -> tuple[str | None, list[tuple[str, bytes]]]:
        """``assigned`` and, when the item has no story yet, ``candidates``: one step."""
        ...

    def thread(self, story: str, channel: str) -> str | None:
        """The first message's thread ref of a story on a channel."""
        ...

    def set_thread(self, story: str, channel: str, ref: str) -> None:
        """Remember the first message's thread ref (first writer wins)."""
        ...


class MemoryStories:
    """The story index in dicts."""

    def __init__(self) -> None:
        self.items: dict[str, str] = {}
        self.stories: dict[str, list[tuple[str, bytes, datetime]]] = {}
        self.threads: dict[str, str] = {}

    def assigned(self, watch: str, item_id: str) -> str | None:
        """The story an item was already put in."""
        return self.items.get(f"{watch}|{item_id}")

    def candidates(self, watch: str, sig: bytes, since: datetime) -> list[tuple[str, bytes]]:
        """Every story of the watch started since ``since`` (a linear scan is fine here)."""
        return [(s, sig) for s, sig, at in self.stories.get(watch, []) if at >= since]

    def assign(self, watch: str, item_id: str, story: str, sig: bytes | None, at: datetime) -> None:
        """Record the assignment (and the new story)."""
        self.items[f"{watch}|{item_id}"] = story
        if sig is not None:
            self.stories.setdefault(watch, []).append((story, sig, at))

    def find(
        self, watch: str, item_id: str, sig: bytes, since: datetime
    ) -> tuple[str | None, list[tuple[str, bytes]]]:
        """The item's story, else the candidates."""
        known = self.assigned(watch, item_id)
        return (known, []) if known is not None else (None, self.candidates(watch, sig, since))

    def thread(self, story: str, channel: str) -> str | None:
        """The thread ref, if any."""
        return self.threads.get(f"{story}|{channel}")

    def set_thread(self, story: str, channel: str, ref: str) -> None:
        """First writer wins."""
        self.threads.setdefault(f"{story}|{channel}", ref)


# KEYS: item, start zset, sig hash, bands...; ARGV: "(since", since. Forgets stories older than
# the window (band sets expire alone), then unions the bands and keeps fresh stories with a sig.
FIND = """
local known = redis.call('GET', KEYS[1])
if known then return {known, {}} end
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 500)
if #old > 0 then
  redis.call('HDEL', KEYS[3], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
local seen, out, since = {}, {}, tonumber(ARGV[2])
for i = 4, #KEYS do
  for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    if not seen[id] then
      seen[id] = true
      local t = redis.call('ZSCORE', KEYS[2], id)
      local s = t and tonumber(t) >= since and redis.call('HGET', KEYS[3], id)
      if s then out[#out + 1] = id; out[#out + 1] = s end
    end
  end
end
return {false, out}
"""
# KEYS: item, start zset, sig hash, bands... (only for a new story); ARGV: story, ttl, sig, at.
ASSIGN = """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if #KEYS > 3 then
  for i = 4, #KEYS do
    redis.call('SADD', KEYS[i], ARGV[1])
    redis.call('EXPIRE', KEYS[i], ARGV[2])
  end
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  redis.call('EXPIRE', KEYS[3], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
end
return 1
"""


class RedisStories:
    """``story:item:W|I`` -> story; LSH band sets, start times and signatures per watch."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.r = client
        self.p = prefix
        self.ttl = int(ttl_seconds) + 3600
        self._find = client.register_script(FIND)
        self._assign = client.register_script(ASSIGN)

    def _keys(self, watch: str, sig: bytes | None) -> list[str]:
        w = f"{self.p}story:"
        fixed = [f"{w}start:{watch}", f"{w}sig:{watch}"]
        return fixed + [f"{w}band:{watch}:{b}" for b in (bands(sig) if sig else [])]

    def find(
        self, watch: str, item_id: str, sig: bytes, since: datetime
    ) -> tuple[str | None, list[tuple[str, bytes]]]:
        """The item's story, else the candidates: one Lua call (was about 20 commands)."""
        keys = [f"{self.p}story:item:{watch}|{item_id}", *self._keys(watch, sig)]
        known, flat = self._find(
            keys=keys, args=[f"({since.timestamp()!r}", repr(since.timestamp())]
        )
        if known:
            return _text(known), []
        pairs = [(_text(flat[i]), _bytes(flat[i + 1])) for i in range(0, len(flat), 2)]
        return None, sorted(pairs)

    def assigned(self, watch: str, item_id: str) -> str | None:
        """The story an item was already put in."""
        raw = self.r.get(f"{self.p}story:item:{watch}|{item_id}")
        return bytes(raw).decode() if raw else None  # type: ignore[arg-type]

    def candidates(self, watch: str, sig: bytes, since: datetime) -> list[tuple[str, bytes]]:
        """Stories sharing an LSH band with ``sig`` and started since ``since``."""
        self._forget_before(watch, since)
        with self.r.pipeline(transaction=False) as pipe:
            for band in bands(sig):
                pipe.smembers(f"{self.p}story:band:{watch}:{band}")
            found = sorted({_text(i) for members in pipe.execute() for i in members})
        if not found:
            return []
        starts = self.r.zmscore(f"{self.p}story:start:{watch}", found)
        fresh = [
            i
            for i, t in zip(found, starts, strict=True)
            if t is not None and t >= since.timestamp()
        ]
        if not fresh:
            return []
        sigs = self.r.hmget(f"{self.p}story:sig:{watch}", fresh)
        return [(i, _bytes(s)) for i, s in zip(fresh, sigs, strict=True) if s is not None]

    def _forget_before(self, watch: str, since: datetime) -> None:
        """Drop the signatures of stories older than the window (band sets expire alone)."""
        zkey = f"{self.p}story:start:{watch}"
        old = self.r.zrangebyscore(zkey, "-inf", f"({since.timestamp()}", start=0, num=500)
        if old:
            self.r.hdel(f"{self.p}story:sig:{watch}", *old)  # type: ignore[arg-type]
            self.r.zrem(zkey, *old)  # type: ignore[arg-type]

    def assign(self, watch: str, item_id: str, story: str, sig: bytes | None, at: datetime) -> None:
        """Record the assignment; a new story's signature goes into its LSH bands (one call)."""
        keys = [f"{self.p}story:item:{watch}|{item_id}", *self._keys(watch, sig)]
        self._assign(keys=keys, args=[story, self.ttl, sig or b"", repr(at.timestamp())])

    def thread(self, story: str, channel: str) -> str | None:
        """The thread ref, if any."""
        raw = self.r.get(f"{self.p}story:thread:{story}|{channel}")
        return bytes(raw).decode() if raw else None  # type: ignore[arg-type]

    def set_thread(self, story: str, channel: str, ref: str) -> None:
        """First writer wins (SET NX)."""
        self.r.set(f"{self.p}story:thread:{story}|{channel}", ref, nx=True, ex=self.ttl)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
