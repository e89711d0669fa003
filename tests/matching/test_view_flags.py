"""The views' bitmap test of an item's keys: the C twin gives what the compiled Python does."""

from __future__ import annotations

import random

import pytest

from alerts.matching import scan
from alerts.matching.viewkeys import HASH_MASK

_wordkeys = pytest.importorskip("alerts.matching._wordkeys")


def test_the_c_flags_are_the_python_ones_in_the_same_order() -> None:
    rng = random.Random(5)
    keys = {f"k{rng.random()}~f" if i % 7 == 0 else f"key{i}": [i] for i in range(3000)}
    bitmap = bytes(rng.getrandbits(8) & rng.getrandbits(8) for _ in range(1024))
    mask = 1024 * 8 - 1
    python: list[int] = []
    c: list[int] = []
    scan._flagged(keys, bitmap, mask, HASH_MASK, python)
    _wordkeys.flagged(keys, bitmap, mask, HASH_MASK, c)
    assert c == python
    assert 0 < len(c) < len(keys)  # some keys flagged, not all
    assert all(0 <= h <= HASH_MASK for h in c)


def test_a_bitmap_shorter_than_its_mask_is_refused() -> None:
    with pytest.raises(ValueError, match="shorter"):
        _wordkeys.flagged({"a": 1}, b"\xff", 15, HASH_MASK, [])
