"""Stories: near-duplicate items (headline + lead, MinHash) within a window are one story."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np
import redis

from alerts.delivery.minhash import NUM_PERM
from alerts.delivery.stories_lua import ASSIGN, FIND, PLACE
from alerts.redis_pack import float_text

# 16 bands of 4 rows: two signatures become candidates from a Jaccard of about (1/16)**(1/4) = 0.5.
BANDS, ROWS = 16, 4


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures."""
    va = np.frombuffer(a, dtype=np.uint64)
    vb = np.frombuffer(b, dtype=np.uint64)
    return float(np.mean(va == vb))


def bands(sig: bytes) -> list[str]:
    """The LSH band keys of a signature: band number and a short hash of its rows."""
    width = ROWS * 8
    out: list[str] = []
    for i, prefix in enumerate(_BAND_PREFIXES):
        # a copy of the empty 8-byte BLAKE2b: its parameters parsed and set up once
        hashed = _BLAKE2B_8.copy()
        hashed.update(sig[i * width : (i + 1) * width])
        out.append(prefix + hashed.hexdigest())
    return out


_BLAKE2B_8 = hashlib.blake2b(digest_size=8)  # never updated: only copied
_BAND_PREFIXES = [f"{i}:" for i in range(BANDS)]


def best_match(sig: bytes, candidates: list[tuple[str, bytes]]) -> tuple[str, float] | None:
    """The candidate story most similar to ``sig`` and its similarity (one numpy pass)."""
    if not candidates:
        return None
    matrix = np.frombuffer(b"".join(c[1] for c in candidates), dtype=np.uint64)
    matrix = matrix.reshape(len(candidates), NUM_PERM)
    scores = (matrix == np.frombuffer(sig, dtype=np.uint64)).mean(axis=1)
    best = int(scores.argmax())
    return candidates[best][0], float(scores[best])


@dataclass(frozen=True)
class Placement:
    """How to place an item: stories started since ``since`` whose similarity reaches
    ``threshold`` are joined, else ``story`` starts at ``at``."""

    story: str
    since: datetime
    at: datetime
    threshold: float
    channel: str | None = None  # a follow-up's thread ref on this channel comes back with it


def place_by_parts(index: StoryIndex, watch: str, item_id: str, sig: bytes, new: Placement) -> str:
    """``place`` from ``find``, ``best_match`` and ``assign`` (the reference for the Lua)."""
    known, candidates = index.find(watch, item_id, sig, new.since)
    if known is not None:
        return known
    best = best_match(sig, candidates)
    if best is not None and best[1] >= new.threshold:
        index.assign(watch, item_id, best[0], None, new.at)
        return best[0]
    index.assign(watch, item_id, new.story, sig, new.at)
    return new.story


class StoryIndex(Protocol):
    """Recent story signatures per watch, item-to-story assignments, and thread refs."""

    def assigned(self, watch: str, item_id: str, since: datetime) -> str | None:
        """The story an item was put in (by one started since ``since``, or assigned)."""
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

    def place(self, watch: str, item_id: str, sig: bytes, new: Placement) -> str:
        """The item's story: its own, the most similar fresh one, or ``new.story`` started."""
        ...

    def place_threaded(
        self, watch: str, item_id: str, sig: bytes, new: Placement
    ) -> tuple[str, str | None]:
        """``place``, and for a follow-up the story's thread ref on ``new.channel``: one step."""
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

    def assigned(self, watch: str, item_id: str, since: datetime) -> str | None:
        """The story an item was already put in (kept for good here: ``since`` is not needed)."""
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
        known = self.assigned(watch, item_id, since)
        return (known, []) if known is not None else (None, self.candidates(watch, sig, since))

    def place(self, watch: str, item_id: str, sig: bytes, new: Placement) -> str:
        """By parts (see ``place_by_parts``)."""
        return place_by_parts(self, watch, item_id, sig, new)

    def place_threaded(
        self, watch: str, item_id: str, sig: bytes, new: Placement
    ) -> tuple[str, str | None]:
        """``place``, then the thread of a follow-up."""
        story = self.place(watch, item_id, sig, new)
        followup = story != new.story and new.channel is not None
        return story, self.thread(story, new.channel) if followup else None  # type: ignore[arg-type]

    def thread(self, story: str, channel: str) -> str | None:
        """The thread ref, if any."""
        return self.threads.get(f"{story}|{channel}")

    def set_thread(self, story: str, channel: str, ref: str) -> None:
        """First writer wins."""
        self.threads.setdefault(f"{story}|{channel}", ref)


class RedisStories:
    """``story:item:W|I`` -> story; per watch, LSH band hashes by generation holding the
    stories' signatures too."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.r = client
        self.p = prefix
        self.window = max(1, math.ceil(ttl_seconds))  # >= the window: two generations cover it
        self.ttl = self.window + 3600
        self._find = client.register_script(FIND)
        self._assign = client.register_script(ASSIGN)
        self._place = client.register_script(PLACE)

    def _gen(self, watch: str, at: float, ahead: int = 0) -> str:
        return f"{self.p}story:lsh:{watch}:{int(at // self.window) + ahead}"

    def _sig_prefix(self, watch: str) -> str:
        return f"{self.p}story:sig:{watch}:"

    def find(
        self, watch: str, item_id: str, sig: bytes, since: datetime
    ) -> tuple[str | None, list[tuple[str, bytes]]]:
        """The item's story, else the candidates: one Lua call (was about 20 commands)."""
        return self._lookup(f"{self.p}story:item:{watch}|{item_id}", watch, sig, since, item_id)

    def _lookup(
        self, item_key: str, watch: str, sig: bytes, since: datetime, item_id: str = ""
    ) -> tuple[str | None, list[tuple[str, bytes]]]:
        t = since.timestamp()
        keys = [item_key, self._gen(watch, t, 1), self._gen(watch, t)]
        args = [float_text(t), self._sig_prefix(watch), own_story(watch, item_id), *bands(sig)]
        known, flat = self._find(keys=keys, args=args)
        if known:
            return _text(known), []
        pairs = [(_text(flat[i]), _bytes(flat[i + 1])) for i in range(0, len(flat), 2)]
        return None, sorted(pairs)

    def assigned(self, watch: str, item_id: str, since: datetime) -> str | None:
        """The story an item was already put in since ``since``: its item key, or the story
        it started (its signature in the generations since then)."""
        return self._lookup(f"{self.p}story:item:{watch}|{item_id}", watch, b"", since, item_id)[0]

    def candidates(self, watch: str, sig: bytes, since: datetime) -> list[tuple[str, bytes]]:
        """Stories sharing an LSH band with ``sig`` and started since ``since``."""
        return self._lookup("", watch, sig, since)[1]

    def assign(self, watch: str, item_id: str, story: str, sig: bytes | None, at: datetime) -> None:
        """Record the assignment; a new story's signature goes into its LSH bands (one call)."""
        keys = [f"{self.p}story:item:{watch}|{item_id}"]
        args: list[str | bytes | int] = [story, self.ttl, b"", 2 * self.window + 3600]
        if sig:
            keys.append(self._gen(watch, at.timestamp()))
            args[2] = float_text(at.timestamp()).encode() + b"|" + sig
            args += bands(sig)
        self._assign(keys=keys, args=args)

    def place(self, watch: str, item_id: str, sig: bytes, new: Placement) -> str:
        """Look up, compare and assign in one Lua call (see ``stories_lua.PLACE``)."""
        return self.place_threaded(watch, item_id, sig, new)[0]

    def place_threaded(
        self, watch: str, item_id: str, sig: bytes, new: Placement
    ) -> tuple[str, str | None]:
        """``place``, with a follow-up's thread ref read in the same call."""
        keys, args = self.place_keys_args(watch, item_id, sig, new)
        return placed(self._place(keys=keys, args=args))

    def place_keys_args(
        self, watch: str, item_id: str, sig: bytes, new: Placement, *, fresh: bool = False
    ) -> tuple[list[str], list[str | bytes | int]]:
        """The keys and arguments of ``stories_lua.PLACE`` for this placement (``fresh``: the
        item is known to be placed nowhere yet, its own placement is not read)."""
        t, at = new.since.timestamp(), new.at.timestamp()
        keys = [
            f"{self.p}story:item:{watch}|{item_id}",
            self._gen(watch, t, 1),
            self._gen(watch, t),
            self._gen(watch, at),
        ]
        stamped = float_text(at).encode() + b"|" + sig
        head: list[str | bytes | int] = [
            float_text(t),
            self._sig_prefix(watch),
            new.story,
            self.ttl,
        ]
        thread = [f"{self.p}story:thread:" if new.channel else "", new.channel or ""]
        args = [*head, stamped, 2 * self.window + 3600, float_text(new.threshold), sig, *thread]
        return keys, [*args, "1" if fresh else "0", " ".join(bands(sig))]

    def thread(self, story: str, channel: str) -> str | None:
        """The thread ref, if any."""
        raw = self.r.get(self.thread_key(story, channel))
        return bytes(raw).decode() if raw else None  # type: ignore[arg-type]

    def set_thread(self, story: str, channel: str, ref: str) -> None:
        """First writer wins (SET NX)."""
        self.r.set(self.thread_key(story, channel), ref, nx=True, ex=self.ttl)

    def thread_key(self, story: str, channel: str) -> str:
        """The key of a story's thread ref on a channel (kept ``ttl`` seconds)."""
        return f"{self.p}story:thread:{story}|{channel}"


def own_story(watch: str, item_id: str) -> str:
    """The id of the story an item starts: its alert's key (``Alert.key``). ``PLACE`` keeps no
    item key for such an item, since its story's signature key says where it went."""
    return f"{watch}|{item_id}"


def placed(reply: list[object]) -> tuple[str, str | None]:
    """``PLACE``'s reply: the story and a follow-up's thread ref."""
    story, ref = reply
    return _text(story), _text(ref) if ref else None


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()
