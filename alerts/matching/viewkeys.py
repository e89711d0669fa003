"""The anchor keys that the stem-language views add, for every language at once, in bytes.

A view (``langview``) makes each Latin term word also accept the key its language's
stemmer gives it (Raketen -> raket). An item of that language must then find the watches
of those atoms among its candidates. Rather than a dict per language from each added key
to its watches (a key string, an entry and a tuple for every changed atom: 30-40 MiB a
language at 250k watches), one sorted ``array('q')`` holds every (key, atom) pair that any
built language adds, as ``hash(key)``'s low ``HASH_BITS`` above the atom number, 8 bytes a
pair; pairs that several languages add (many stemmers agree) are stored once. A bitmap of
the hashes turns most of an item's keys away without a search.

A hit means "some built language adds this key to this atom": a superset of what the
item's own language adds. That is safe: a candidate is only a watch to evaluate, and its
atoms are then found with the item language's own keys (``langview.LanguageView``).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from heapq import merge
from itertools import islice

HASH_BITS = 38  # with ATOM_BITS, 62 bits: a small int of mypyc's, a positive int64
ATOM_BITS = 24  # atoms per index (a 1M-watch index has about 1.4M)
HASH_MASK = (1 << HASH_BITS) - 1
ATOM_MASK = (1 << ATOM_BITS) - 1
MIN_BITMAP_BITS = 16
BITMAP_PER_PAIR = 16  # bitmap bits per stored pair: about 1 key in 20 is looked for in vain
RUN = 16384  # new pairs sorted at a time (see ``ViewAnchors.add``)


def pair(key: str, atom: int) -> int:
    """A key and an atom as one stored int."""
    if atom > ATOM_MASK:
        raise ValueError(f"atom {atom} does not fit in {ATOM_BITS} bits")
    return (hash(key) & HASH_MASK) << ATOM_BITS | atom


class ViewAnchors:
    """Every (key, atom) pair the built views add, sorted, and a bitmap of their hashes."""

    __slots__ = ("bitmap", "mask", "pairs")

    def __init__(self) -> None:
        self.pairs = array("q")
        self.bitmap = b""
        self.mask = 0  # bitmap bits - 1 (no bitmap: no pairs)

    def add(self, pairs: Iterable[int]) -> None:
        """Merge new pairs in (each once), and remake the bitmap.

        The pairs are sorted ``RUN`` at a time into arrays, 8 bytes a pair, then merged with
        the stored ones in one pass: a set or a list of a language's pairs (a Python int and
        a set entry each, about 60 bytes a pair) raised a shard's peak by 10 MiB a view.
        """
        runs, source = [], iter(pairs)
        while batch := set(islice(source, RUN)):
            runs.append(array("q", sorted(batch)))
        if not runs:
            return
        merged = array("q", _unique(merge(self.pairs, *runs)))
        runs.clear()
        if len(merged) == len(self.pairs):
            return  # every pair was stored already
        self.pairs = merged
        bits = MIN_BITMAP_BITS
        while (1 << bits) < BITMAP_PER_PAIR * len(self.pairs):
            bits += 1
        self.mask = (1 << bits) - 1
        bitmap = bytearray(1 << (bits - 3))
        for value in self.pairs:
            slot = (value >> ATOM_BITS) & self.mask
            bitmap[slot >> 3] |= 1 << (slot & 7)
        self.bitmap = bytes(bitmap)

    def atoms(self, hashed: int) -> list[int]:
        """The atoms stored under a key's hash (``hash(key) & HASH_MASK``)."""
        pairs, low = self.pairs, hashed << ATOM_BITS
        at = bisect_left(pairs, low)
        out = []
        while at < len(pairs) and pairs[at] >> ATOM_BITS == hashed:
            out.append(pairs[at] & ATOM_MASK)
            at += 1
        return out

    def nbytes(self) -> int:
        """Bytes held: the pairs and the bitmap."""
        return self.pairs.itemsize * len(self.pairs) + len(self.bitmap)


def _unique(values: Iterator[int]) -> Iterator[int]:
    last = -1
    for value in values:
        if value != last:
            yield value
            last = value
