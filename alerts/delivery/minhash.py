"""An item's MinHash signature (headline + lead): datasketch's values, computed in one pass.

The pass is in C when built (``_minhash.c``: the per-shingle hashlib calls were most of a
signature's cost); ``numpy_signature`` is its twin, the reference it is tested against.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

import numpy as np
from datasketch import MinHash

from alerts.models import Item

NUM_PERM = 64
_WORD = re.compile(r"\w+", re.UNICODE)
_LEAD_CHARS = 12  # characters read per lead word wanted: news words average under 8
# Generating the permutations is the slow part of a MinHash: do it once per process.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=7)
_A, _B = _TEMPLATE.permutations  # uint32: the scheme's arithmetic wraps modulo 2**32
_DIGEST_WORDS = 5  # a SHA-1 digest is five 32-bit words
_EMPTY = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint64).tobytes()  # no shingle: every slot max
_A_LE, _B_LE = _A.astype("<u4").tobytes(), _B.astype("<u4").tobytes()  # the C pass's form

try:
    from alerts.delivery._minhash import minhash as _c_minhash  # type: ignore[import-not-found]
except ImportError:  # not built (no compiler, ALERTS_PURE_PYTHON=1): the numpy twin
    _c_minhash = None


def shingles(item: Item, lead_words: int = 40) -> set[str]:
    """Words and word pairs of the headline and the first words of the body (the lead)."""
    text = f"{item.title} {item.summary or item.body}"
    # The lead's words alone are lowered (lowering keeps a word one word), pairs joined in C.
    words = lead(text, lead_words + 20, lowered=True)
    found = set(words)
    found.update(map(" ".join, itertools.pairwise(words)))
    return found


def lead(text: str, count: int, *, lowered: bool = False) -> list[str]:
    """``_WORD.findall(text)[:count]``, read from the first ``_LEAD_CHARS * count`` characters
    when they hold more than ``count`` words (a long body is not scanned to its end): a word
    there is followed by another, so it ends before the cut, as it does in the whole text. A
    text no longer than the cut was read whole: never scanned twice. ``lowered``: each word
    lowered (``str.lower``)."""
    cut = _LEAD_CHARS * count
    words = _words(text, cut, lowered)
    if len(words) > count or len(text) <= cut:
        return words[:count]
    return _words(text, len(text), lowered)[:count]


# ``\w`` on ASCII text is a letter, a digit or "_": every other character becomes a space.
_ASCII_SPACED = bytes(
    c if c < 128 and (chr(c).isalnum() or c == 0x5F) else 0x20 for c in range(256)
)
_ASCII_LOWERED = _ASCII_SPACED.lower()  # the same, letters lowered (``str.lower`` on ASCII)


def _words(text: str, end: int, lowered: bool) -> list[str]:
    """``_WORD.findall(text, 0, end)`` (each word lowered if ``lowered``). ASCII text, most
    news in Latin script, is spaced out and split in a few C passes (a regex match per word
    was a tenth of a signature's cost); other text goes through the regex."""
    if text.isascii():
        table = _ASCII_LOWERED if lowered else _ASCII_SPACED
        return text[:end].encode().translate(table).decode().split()
    words = _WORD.findall(text, 0, end)
    return list(map(str.lower, words)) if lowered else words


def signature(item: Item) -> bytes:
    """The MinHash signature of an item's headline and lead, as bytes (``_minhash.c`` when
    built, else ``numpy_signature``: the same values)."""
    found = shingles(item)
    if not found:
        return _EMPTY
    if _c_minhash is not None:
        return _c_minhash(found, _A_LE, _B_LE)  # type: ignore[no-any-return]
    return numpy_signature(found)


def numpy_signature(found: set[str]) -> bytes:
    """The signature of a non-empty set of shingles, in numpy (the C pass's twin).

    datasketch's ``MinHash(num_perm=64, seed=7).update_batch`` (scheme ``affine32``) done in one
    numpy pass: building a MinHash per item (its arrays, the checks of its permutations) cost
    more than the arithmetic. The values are datasketch's own (tests/delivery/test_signature.py).
    """
    # datasketch's sha1_hash32: a shingle's first 4 bytes, little-endian. The whole 20-byte
    # digests are joined and every fifth 32-bit word taken: no slice object per shingle.
    sha1 = hashlib.sha1
    digests = b"".join([sha1(s.encode()).digest() for s in found])
    hashed = np.frombuffer(digests, dtype="<u4")[::_DIGEST_WORDS]
    mixed = _fmix32(hashed.reshape(-1, 1))
    return bytes((mixed * _A + _B).min(axis=0).astype(np.uint64).tobytes())


def _fmix32(hv: Any) -> Any:
    """MurmurHash3's 32-bit finaliser, element-wise (datasketch mixes each hash with it)."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))
