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
from dataclasses import dataclass, field

WORD = re.compile(r"\w+")
_SPLIT = re.compile(r"(\W+)")
COMPOUND = re.compile(r"\w+(?:-\w+)+")
_REMOVE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e")
_PUNCT = {
    **dict.fromkeys("‘’‚‛′´", "'"),
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
# After lower(): anything but ASCII, plain Cyrillic letters and the 1:1 punctuation needs folding.
_OTHER = re.compile(
    "[^\x00-\x7f\u0430-\u044f\u0454\u0456\u0457\u0491" + re.escape("".join(_PUNCT)) + "]"
)


def _punct(m: re.Match[str]) -> str:
    return _PUNCT[m.group()]


def normalise(text: str) -> tuple[str, bool]:
    """Normalised text and whether it maps one-to-one onto the original."""
    if text.isascii():
        return text.lower(), True
    low = text.lower()
    if _OTHER.search(low) is None:
        return _PUNCT_RX.sub(_punct, low), True  # fast path: lower() and 1:1 punctuation
    norm = text.translate(_TABLE)
    return norm, _TABLE.irregular.isdisjoint(text)


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
    _map: list[int] | None = field(default=None, repr=False)
    _spans: tuple[list[int], list[int]] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, name: str, text: str) -> FieldText:
        """Normalise one field."""
        norm, regular = normalise(text)
        return cls(name, text, norm, regular)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text back onto the original text."""
        if self.regular:
            return start, end
        if self._map is None:
            self._map = offset_map(self.text)
        return self._map[start], self._map[end - 1] + 1 if end > start else self._map[start]

    def token_span(self, first: int, last: int) -> tuple[int, int]:
        """Original span covering normalised tokens ``first`` .. ``last`` (inclusive)."""
        if self._spans is None:
            self._spans = word_spans(self.norm)
        starts, ends = self._spans
        return self.original_span(starts[first], ends[last])


def word_spans(norm: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of the words ``WORD.findall`` finds, in C-speed passes."""
    parts = _SPLIT.split(norm)  # word, separator, word, ... (first/last word may be "")
    offsets = list(itertools.accumulate(map(len, parts), initial=0))
    found, starts = parts[0::2], offsets[0::2]
    if found and found[-1] == "":
        found, starts = found[:-1], starts[: len(found) - 1]
    if found and found[0] == "":
        found, starts = found[1:], starts[1:]
    return starts, list(map(operator.add, starts, map(len, found)))


_ASCII_SPLIT = str.maketrans(
    {chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_")}
)


def split_words(norm: str) -> list[str]:
    """The words of normalised text, as ``WORD.findall`` finds them (faster on ASCII)."""
    if norm.isascii():
        return norm.translate(_ASCII_SPLIT).split()
    return WORD.findall(norm)


def words(text: str) -> list[str]:
    """The normalised words of a text, as the matcher sees them."""
    return WORD.findall(normalise(text)[0])
