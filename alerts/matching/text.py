"""Text normalisation with a way back: NFKC, casefold, diacritics, quotes and dashes, ё->е.

``normalise`` is per character, so every normalised character knows which original
character it came from. Most text maps one-to-one (offsets are then the identity);
only text holding soft hyphens, ligatures, 'ß' and the like needs an explicit map.
"""

from __future__ import annotations

import itertools
import operator
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

WORD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\W+)")
# Hyphenated words, or Слов'янськ split at its apostrophe. Tried at word starts only, each run
# of letters taken whole (possessive): no word is tried again from each of its letters, so
# a field costs a pass, not a pass per letter of each word (the matches are the same).
COMPOUND = re.compile(r"(?<!\w)\w++(?:[-']\w++)+")
_REMOVE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e")
_PUNCT = {
    **dict.fromkeys("‘’‚‛′´\u02bc", "'"),  # U+02BC: the Ukrainian apostrophe
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
}


def _is_cyrillic(ch: str) -> bool:
    return "\u0400" <= ch <= "\u04ff"


def fold_char(ch: str) -> str:
    """The normalised form of one character (possibly empty or longer than one)."""
    if ch in _REMOVE:
        return ""
    if ch in _PUNCT:
        return _PUNCT[ch]
    out = []
    for c in unicodedata.normalize("NFKC", ch).casefold():
        if c == "ё":
            out.append("е")
        elif _is_cyrillic(c):
            out.append(c)  # keep й, ї: they carry meaning in Russian and Ukrainian
        else:
            out.append("".join(x for x in unicodedata.normalize("NFD", c) if not _combining(x)))
    return "".join(out)


def _combining(ch: str) -> bool:
    return unicodedata.combining(ch) != 0 or unicodedata.category(ch) == "Mn"


class _FoldTable(dict[int, str]):
    """A ``str.translate`` table that folds unseen characters on first use."""

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = fold_char(ch)
        if len(folded) != 1:
            self.irregular.add(ch)
        if len(self) < 100_000:
            self[code] = folded
        return folded


_TABLE = _FoldTable()


_PUNCT_RX = re.compile("[" + re.escape("".join(_PUNCT)) + "]")
_CYR_PLAIN = "\u0430-\u044f\u0454\u0456\u0457\u0491"
# After lower(): ASCII and plain Cyrillic letters are already normalised ("plain" text) ...
_NOT_PLAIN = re.compile(f"[^\x00-\x7f{_CYR_PLAIN}]")
# ... and anything else but the 1:1 punctuation needs folding.
_OTHER = re.compile(f"[^\x00-\x7f{_CYR_PLAIN}" + re.escape("".join(_PUNCT)) + "]")


def plainness_re(low: str) -> int:
    """0: only ASCII and plain Cyrillic letters; 1: also 1:1 punctuation; 2: anything else."""
    if _NOT_PLAIN.search(low) is None:
        return 0
    return 1 if _OTHER.search(low) is None else 2


def _lower_plain_none(text: str) -> tuple[str, int] | None:
    return None


try:  # the same in one pass of C, when the extension is built
    from alerts.matching._wordkeys import (  # type: ignore[import-not-found]
        lower_plain,
        plainness,
    )
except ImportError:
    plainness, lower_plain = plainness_re, _lower_plain_none


def _punct(m: re.Match[str]) -> str:
    return _PUNCT[m.group()]


def normalise_plain(text: str) -> tuple[str, bool, bool]:
    """Normalised text, whether it maps one-to-one, and whether it is plain.

    Plain normalised text holds nothing but ASCII and plain Cyrillic letters, so every
    non-ASCII character is a word character and words can be split byte-wise.
    """
    if text.isascii():
        return text.lower(), True, True
    fast = lower_plain(text)  # lower-casing and the check in one pass, when it can
    if fast is None:
        lowered = text.lower()
        fast = (lowered, plainness(lowered))
    low, kind = fast
    if kind == 0:
        return low, True, True
    if kind == 1:
        return _PUNCT_RX.sub(_punct, low), True, True  # lower() and 1:1 punctuation
    norm = text.translate(_TABLE)
    return norm, _TABLE.irregular.isdisjoint(text), False


def normalise(text: str) -> tuple[str, bool]:
    """Normalised text and whether it maps one-to-one onto the original."""
    norm, regular, _ = normalise_plain(text)
    return norm, regular


def offset_map(text: str) -> list[int]:
    """For each normalised character, the index of the original character it came from."""
    out: list[int] = []
    for i, ch in enumerate(text):
        out.extend([i] * len(_TABLE[ord(ch)] if not ch.isascii() else "x"))
    out.append(len(text))
    return out


@dataclass
class FieldText:
    """One field of an item: original text, normalised text, lazily computed spans."""

    name: str
    text: str
    norm: str
    regular: bool
    plain: bool = False
    _map: list[int] | None = field(default=None, repr=False)
    # The words' start and end offsets in ``norm``, once known (read by the compiled evaluator).
    spans: tuple[Sequence[int], Sequence[int]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, name: str, text: str) -> FieldText:
        """Normalise one field."""
        return cls(name, text, *normalise_plain(text))

    def words(self) -> list[str]:
        """The words of the normalised text."""
        return split_words(self.norm, plain=self.plain)

    def use_spans(self, packed: bytes) -> None:
        """Word spans found elsewhere (the key table): int32 start, end pairs."""
        pairs = memoryview(packed).cast("i")
        self.spans = (pairs[0::2], pairs[1::2])

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text back onto the original text."""
        if self.regular:
            return start, end
        if self._map is None:
            self._map = offset_map(self.text)
        return self._map[start], self._map[end - 1] + 1 if end > start else self._map[start]

    def word_number(self, offset: int) -> int:
        """The number of the word that holds a normalised offset (or the word before it)."""
        if self.spans is None:
            self.spans = word_spans(self.norm, plain=self.plain)
        return bisect_right(self.spans[0], offset) - 1

    def token_span(self, first: int, last: int) -> tuple[int, int]:
        """Original span covering normalised tokens ``first`` .. ``last`` (inclusive)."""
        if self.spans is None:
            self.spans = word_spans(self.norm, plain=self.plain)
        starts, ends = self.spans
        return self.original_span(starts[first], ends[last])


def word_spans(norm: str, *, plain: bool = False) -> tuple[list[int], list[int]]:
    """Start and end offsets of the words ``WORD.findall`` finds, in C-speed passes."""
    if plain or norm.isascii():
        return _plain_spans(_spaced(norm))
    parts = _SPLIT.split(norm)  # word, separator, word, ... (first/last word may be "")
    offsets = list(itertools.accumulate(map(len, parts), initial=0))
    found, starts = parts[0::2], offsets[0::2]
    if found and found[-1] == "":
        found, starts = found[:-1], starts[: len(found) - 1]
    if found and found[0] == "":
        found, starts = found[1:], starts[1:]
    return starts, list(map(operator.add, starts, map(len, found)))


def _plain_spans(spaced: str) -> tuple[list[int], list[int]]:
    """Word offsets of text whose only separator is a space: part i starts at i + len(before)."""
    lengths = list(map(len, spaced.split(" ")))
    offsets = map(operator.add, itertools.accumulate(lengths, initial=0), itertools.count())
    starts = list(itertools.compress(offsets, lengths))
    return starts, list(map(operator.add, starts, filter(None, lengths)))


_NON_WORD = [c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")]
_ASCII_SPLIT = str.maketrans(dict.fromkeys(map(chr, _NON_WORD), " "))
_BYTES_SPLIT = bytes(32 if c in _NON_WORD else c for c in range(256))


def _spaced(norm: str) -> str:
    """Plain text with every non-word character turned into a space (same length)."""
    if norm.isascii():
        return norm.translate(_ASCII_SPLIT)
    # Plain text: non-word characters are ASCII, so UTF-8 bytes >= 0x80 are left alone.
    return norm.encode().translate(_BYTES_SPLIT).decode()


def split_words(norm: str, *, plain: bool = False) -> list[str]:
    """The words of normalised text, as ``WORD.findall`` finds them (faster on plain text)."""
    if plain or norm.isascii():
        return _spaced(norm).split()
    return WORD.findall(norm)


def words(text: str) -> list[str]:
    """The normalised words of a text, as the matcher sees them."""
    return WORD.findall(normalise(text)[0])
