"""An item's words and their keys, in one pass: the C table when it is built, else its twin.

``scan`` splits normalised fields into words (as ``\\w+`` does), looks every word's key
up in a table that outlives the item, and says which keys are anchors of the current
index. Words not seen before are keyed in one batch (see ``variants.word_keys``) and
remembered; longer words than ``MAX_CACHED_WORD`` (and words with a character beyond the
BMP) are keyed every time and never kept, so a feed of long distinct strings cannot pin
memory. There is one table per stem language, and all of them together hold at most
``CACHE_BYTES`` (see ``set_cache_bytes``): a table that would pass it starts over, and so
do the other languages' tables, largest first, when the sum would.

``alerts/matching/_wordkeys.c`` is the table in C; ``PyWordTable`` below is the same
contract in Python, used when the extension was not built (no C compiler) and by the
tests that check the two agree.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Protocol

from alerts.gcpause import give_back_freed
from alerts.matching.languages import ALGORITHMS, DEFAULT
from alerts.matching.text import plainness_re, split_words
from alerts.matching.variants import word_keys

SEP = "\x1f"  # the entry after each field, so that no phrase runs across fields
MAX_CACHED = 500_000  # words in a table before it starts over
MAX_CACHED_WORD = 64  # longer words are keyed without being kept (the C table: < 256)
CACHE_BYTES = 96 * 2**20  # every table's words, slots and keys together (set_cache_bytes)

# (keys with SEP after each field, anchor keys present in first-seen order, words per
# field, and each field's word spans as int32 start/end pairs, or None when the table
# leaves them to be found on demand)
Scanned = tuple[list[str], list[str], list[int], list[bytes] | None]


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
    def nbytes(self) -> int: ...
    def __len__(self) -> int: ...


def _split(norm: str) -> list[str]:
    """The words of normalised text (the byte-wise split when it is plain)."""
    return split_words(norm, plain=norm.isascii() or plainness_re(norm) == 0)


class PyWordTable:
    """The pure-Python twin of the C ``WordTable`` (same arguments, same results)."""

    def __init__(
        self, limit: int = MAX_CACHED, max_word: int = MAX_CACHED_WORD, max_bytes: int = 2**62
    ) -> None:
        if limit < 1 or max_word < 1 or max_word > 255 or max_bytes < 1:
            raise ValueError("limit, max_word and max_bytes must be positive (max_word < 256)")
        self.limit, self.max_word, self.max_bytes = limit, max_word, max_bytes
        self._keys: dict[str, str] = {}
        self._bytes = 0  # the words' and keys' sizes (the dict's own is added by nbytes)

    def scan(
        self,
        norms: list[str],
        sep: str,
        anchors: Mapping[str, Any],
        overflow: dict[str, str] | None,
    ) -> Scanned | list[str]:
        """Keys, the anchor keys present and word counts (or the words without a key).

        Word spans are left to ``FieldText`` to find when a hit asks for them.
        """
        known, extra = self._keys, overflow or {}
        words: list[str] = []
        found: list[str | None] = []
        counts = []
        for norm in norms:
            field = _split(norm)
            counts.append(len(field))
            words += field
            words.append(sep)
            found += map(known.get, field)  # long words are never kept: None
            found.append(sep)
        if None in found:
            missing = []
            for p, key in enumerate(found):
                if key is None:
                    key = found[p] = extra.get(words[p])
                    if key is None:
                        missing.append(words[p])
            if missing:
                return list(dict.fromkeys(missing))
        keys: list[str] = found  # type: ignore[assignment]
        present = anchors.keys() & keys
        present.discard(sep)
        anchored = sorted(present, key=keys.index) if present else []
        return keys, anchored, counts, None

    def add(self, words: list[str], keys: list[str]) -> None:
        """Remember each word's key (words longer than ``max_word`` are skipped)."""
        if len(words) != len(keys):
            raise ValueError("words and keys differ in length")
        for word, key in zip(words, keys, strict=True):
            if not self._keepable(word) or word in self._keys:
                continue
            size = sys.getsizeof(word) + sys.getsizeof(key)
            if len(self._keys) >= self.limit or self.nbytes() + size > self.max_bytes:
                self.clear()
                if sys.getsizeof(self._keys) + size > self.max_bytes:
                    continue
            self._keys[word] = key
            self._bytes += size

    def _keepable(self, word: str) -> bool:
        return len(word) <= self.max_word and (word.isascii() or max(word) <= "\uffff")

    def get(self, word: str) -> str | None:
        """The key of a word the table holds."""
        return self._keys.get(word) if self._keepable(word) else None

    def split(self, norms: list[str], sep: str) -> list[str]:
        """Every field's words, each field followed by ``sep``."""
        out: list[str] = []
        for norm in norms:
            out += _split(norm)
            out.append(sep)
        return out

    def clear(self) -> None:
        """Forget every word."""
        self._keys = {}  # a new dict: clear() would keep the old one's size
        self._bytes = 0

    def nbytes(self) -> int:
        """Bytes held: the dict, and each word and key as ``add`` counted it."""
        return sys.getsizeof(self._keys) + self._bytes

    def __len__(self) -> int:
        return len(self._keys)


def new_table(
    limit: int = MAX_CACHED, max_word: int = MAX_CACHED_WORD, max_bytes: int | None = None
) -> Table:
    """The C table when the extension is built, else the pure-Python twin (``max_bytes``:
    ``CACHE_BYTES`` unless given)."""
    budget = CACHE_BYTES if max_bytes is None else max_bytes
    try:
        from alerts.matching._wordkeys import WordTable  # type: ignore[import-not-found]
    except ImportError:  # built without a C compiler
        return PyWordTable(limit, max_word, budget)
    table: Table = WordTable(limit, max_word, budget)
    return table


TABLE = new_table()
# One table per stem language (a word's key depends on the item's language); English's
# is TABLE. Each table remembers the anchors dict it last checked, so an item in another
# language does not make the English table check its words again.
_TABLES: dict[str, Table] = {DEFAULT: TABLE}
# The distinct tables of _TABLES (languages with one stemmer share one), each once: every
# item with a new word sums their sizes.
_HELD: list[Table] = [TABLE]


def table_for(language: str) -> Table:
    """The word table of a stem language (see ``languages.stem_language``)."""
    table = _TABLES.get(language)
    if table is None:  # languages with one stemmer (cs, sk) key every word alike: one table
        same = [t for code, t in _TABLES.items() if ALGORITHMS[code] == ALGORITHMS[language]]
        table = _TABLES[language] = same[0] if same else new_table()
        if not same:
            _HELD.append(table)
    return table


def tables() -> list[Table]:
    """Every stem language's table, each once (do not modify the list)."""
    return _HELD


def set_cache_bytes(budget: int) -> None:
    """Bound every stem language's table together to ``budget`` bytes (a worker calls this
    once, from its settings, before it matches): the tables start empty."""
    global CACHE_BYTES, TABLE
    if budget < 1:
        raise ValueError("the word cache needs a positive number of bytes")
    CACHE_BYTES = budget
    _TABLES.clear()
    TABLE = _TABLES[DEFAULT] = new_table()
    _HELD[:] = [TABLE]


def _add(table: Table, words: list[str], keys: list[str]) -> None:
    """Remember words' keys; then, while all tables together hold more than
    ``CACHE_BYTES``, the other tables start over, largest first. Memory a table gave back
    goes back to the system: freed in the C heap's middle, glibc would keep it mapped."""
    held = len(table)
    table.add(words, keys)
    started_over = len(table) < held
    others = [t for t in _HELD if t is not table]  # a shared table counted once, as held
    total = sum([t.nbytes() for t in others], table.nbytes())
    if total <= CACHE_BYTES:  # every item with a new word comes here: the common case
        if started_over:
            give_back_freed()
        return
    others.sort(key=len)
    while total > CACHE_BYTES and others:
        largest = others.pop()
        total -= largest.nbytes()
        largest.clear()
        total += largest.nbytes()
        started_over = True
    if started_over:
        give_back_freed()  # rare: once per CACHE_BYTES of new words


def scan(
    norms: list[str],
    anchors: Mapping[str, Any],
    table: Table | None = None,
    language: str = DEFAULT,
) -> Scanned:
    """Keys of every field's words in a stem language (unseen words keyed and remembered).

    ``anchors`` must not change while it is in use: the table remembers, per word, whether
    its key is in the last anchors dict it was given (an index's never changes).
    """
    table = table if table is not None else table_for(language)
    found = table.scan(norms, SEP, anchors, None)
    if isinstance(found, tuple):
        return found
    keys = word_keys(found, language)
    _add(table, found, keys)
    again = table.scan(norms, SEP, anchors, None)  # the table kept every word: most items
    if isinstance(again, tuple):
        return again
    overflow = dict(zip(found, keys, strict=True))
    found = again
    # Each round keys the words still missing; the overflow dict covers any the table could
    # not keep (too long, or dropped when a full table started over). It only grows, so
    # this ends, in one more round unless the table started over again.
    while not isinstance(found, tuple):
        missing = [word for word in found if word not in overflow]
        keys = word_keys(missing, language)
        _add(table, missing, keys)
        overflow.update(zip(missing, keys, strict=True))
        found = table.scan(norms, SEP, anchors, overflow)
    return found


def key_of(word: str, table: Table | None = None, language: str = DEFAULT) -> str:
    """The key of one normalised word in a stem language."""
    table = table if table is not None else table_for(language)
    key = table.get(word)
    if key is None:
        key = word_keys([word], language)[0]
        _add(table, [word], [key])
    return key


def split(norms: list[str]) -> list[str]:
    """Every field's words, each field followed by ``SEP``."""
    return TABLE.split(norms, SEP)
