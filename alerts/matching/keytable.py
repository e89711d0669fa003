"""An item's words and their keys, in one pass: the C table when it is built, else its twin.

``scan`` splits normalised fields into words (as ``\\w+`` does), looks every word's key
up in a table that outlives the item, and says which keys are anchors of the current
index. Words not seen before are keyed in one batch (see ``variants.word_keys``) and
remembered, up to ``MAX_CACHED`` words; longer words than ``MAX_CACHED_WORD`` are keyed
every time and never kept, so a feed of long distinct strings cannot pin memory.

``alerts/matching/_wordkeys.c`` is the table in C; ``PyWordTable`` below is the same
contract in Python, used when the extension was not built (no C compiler) and by the
tests that check the two agree.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from typing import Any, Protocol

from alerts.matching.text import word_spans
from alerts.matching.variants import word_keys

SEP = "\x1f"  # the entry after each field, so that no phrase runs across fields
MAX_CACHED = 500_000  # words in the table before it starts over
MAX_CACHED_WORD = 64  # longer words are keyed without being kept

# (keys with SEP after each field, anchor keys present in first-seen order, each field's
# word spans as int32 start/end pairs)
Scanned = tuple[list[str], list[str], list[bytes]]


class Table(Protocol):
    """What the C table and its twin both do."""

    def scan(
        self,
        norms: list[str],
        sep: str,
        anchors: Mapping[str, Any],
        overflow: dict[str, str] | None,
    ) -> Scanned | list[str]: ...
    def add(self, words: list[str], keys: list[str]) -> None: ...
    def get(self, word: str) -> str | None: ...
    def split(self, norms: list[str], sep: str) -> list[str]: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...


class PyWordTable:
    """The pure-Python twin of the C ``WordTable`` (same arguments, same results)."""

    def __init__(self, limit: int = MAX_CACHED, max_word: int = MAX_CACHED_WORD) -> None:
        if limit < 1 or max_word < 1:
            raise ValueError("limit and max_word must be positive")
        self.limit, self.max_word = limit, max_word
        self._keys: dict[str, str] = {}

    def scan(
        self,
        norms: list[str],
        sep: str,
        anchors: Mapping[str, Any],
        overflow: dict[str, str] | None,
    ) -> Scanned | list[str]:
        """Keys, the anchor keys present and the word spans (or the words without a key)."""
        spans = [word_spans(norm) for norm in norms]
        words = [
            [n[a:b] for a, b in zip(*s, strict=True)] for n, s in zip(norms, spans, strict=True)
        ]
        extra = overflow or {}
        short = self._keys
        missing = [
            w
            for field in words
            for w in field
            if (len(w) > self.max_word or w not in short) and w not in extra
        ]
        if missing:
            return list(dict.fromkeys(missing))
        keys: list[str] = []
        for field in words:
            keys += [
                short[w] if len(w) <= self.max_word and w in short else extra[w] for w in field
            ]
            keys.append(sep)
        anchored = [k for k in dict.fromkeys(keys) if k != sep and k in anchors]
        packed = [
            array("i", [x for pair in zip(*s, strict=True) for x in pair]).tobytes() for s in spans
        ]
        return keys, anchored, packed

    def add(self, words: list[str], keys: list[str]) -> None:
        """Remember each word's key (words longer than ``max_word`` are skipped)."""
        if len(words) != len(keys):
            raise ValueError("words and keys differ in length")
        for word, key in zip(words, keys, strict=True):
            if len(word) > self.max_word or word in self._keys:
                continue
            if len(self._keys) >= self.limit:
                self._keys.clear()
            self._keys[word] = key

    def get(self, word: str) -> str | None:
        """The key of a word the table holds."""
        return self._keys.get(word) if len(word) <= self.max_word else None

    def split(self, norms: list[str], sep: str) -> list[str]:
        """Every field's words, each field followed by ``sep``."""
        out: list[str] = []
        for norm in norms:
            starts, ends = word_spans(norm)
            out += [norm[a:b] for a, b in zip(starts, ends, strict=True)]
            out.append(sep)
        return out

    def clear(self) -> None:
        """Forget every word."""
        self._keys.clear()

    def __len__(self) -> int:
        return len(self._keys)


def new_table(limit: int = MAX_CACHED, max_word: int = MAX_CACHED_WORD) -> Table:
    """The C table when the extension is built, else the pure-Python twin."""
    try:
        from alerts.matching._wordkeys import WordTable  # type: ignore[import-not-found]
    except ImportError:  # built without a C compiler
        return PyWordTable(limit, max_word)
    table: Table = WordTable(limit, max_word)
    return table


TABLE = new_table()


def scan(norms: list[str], anchors: Mapping[str, Any], table: Table | None = None) -> Scanned:
    """Keys of every field's words (unseen words keyed in one batch and remembered)."""
    table = table if table is not None else TABLE
    found = table.scan(norms, SEP, anchors, None)
    overflow: dict[str, str] = {}
    # Each round keys the words still missing; the overflow dict covers any the table could
    # not keep (too long, or dropped when a full table started over). It only grows, so
    # this ends, in two rounds unless the table started over.
    while not isinstance(found, tuple):
        keys = word_keys(found)
        table.add(found, keys)
        overflow.update(zip(found, keys, strict=True))
        found = table.scan(norms, SEP, anchors, overflow)
    return found


def key_of(word: str, table: Table | None = None) -> str:
    """The key of one normalised word."""
    table = table if table is not None else TABLE
    key = table.get(word)
    if key is None:
        key = word_keys([word])[0]
        table.add([word], [key])
    return key


def split(norms: list[str]) -> list[str]:
    """Every field's words, each field followed by ``SEP``."""
    return TABLE.split(norms, SEP)
