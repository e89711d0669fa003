"""Names for the matcher's atoms and occurrences, in one place.

An atom's *pattern* is a tuple whose first element is its kind (``KEYS`` ... ``REGEX``);
the named tuples below say what the other elements are. They are plain tuples at run
time (no memory beyond a tuple's), so the per-item code, compiled by mypyc, reads them by
position (``pattern[1]``) at tuple speed. An *occurrence* is (field number, a, b, kind),
its kind one of the ``Final`` ints below, which mypyc inlines as constants.
"""

from __future__ import annotations

import re
from typing import Any, Final, NamedTuple

# Pattern kinds: the first element of every pattern.
KEYS: Final = "k"  # one word, accepted by its keys (a fuzzy term)
PHRASE: Final = "p"  # consecutive words, each accepted by its keys
WORDS: Final = "e"  # consecutive normalised words (an exact term)
PREFIX: Final = "x"  # the same, the last word only its beginning
REGEX: Final = "r"  # a regular expression on the original text

# Occurrence kinds: the last element of (field number, a, b, kind).
BY_KEY: Final = 0  # b words from position a of the document's word list (keys)
JOINED: Final = 1  # normalised characters a:b (a hyphenated compound, joined)
MATCHED: Final = 2  # original characters a:b (a regex match)
BY_WORD: Final = 3  # b words from position a, compared as written (exact, prefix)

Only = dict[str, frozenset[str]] | None  # keys that count in items of some languages only
Pattern = tuple[Any, ...]  # one of the named tuples below
Occurrence = tuple[int, int, int, int]


class Keyed(NamedTuple):
    """A single fuzzy word: the keys that accept an item word."""

    kind: str
    keys: tuple[str, ...]
    only: Only


class Phrase(NamedTuple):
    """Fuzzy consecutive words: per word its keys (any combination counts); the keys of the
    joined hyphenated form."""

    kind: str
    options: tuple[tuple[str, ...], ...]
    joined: tuple[str, ...]
    only: Only


class Written(NamedTuple):
    """Exact words (``WORDS``) or words the last of which is a prefix (``PREFIX``)."""

    kind: str
    words: tuple[str, ...]


class Regex(NamedTuple):
    """A compiled RE2 (or ``re``) pattern."""

    kind: str
    regex: re.Pattern[str] | Any
