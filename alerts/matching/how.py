"""How a hit was found: the item's words compared with the term's, once per reported hit.

The kinds (named and ranked by the rule language, ``alerts.rules.confidence``), from the most
confident to the least (``min_confidence`` counts a hit whose least confident kind is at most
the one asked for):

- ``exact``: the words are equal once case and diacritics are folded;
- ``inflected``: the same word with another ending (Rakete, Raketen; Рига, Ризі);
- ``transliterated``: the item writes the word in another script (Kaluga, Калуге);
- ``other_spelling``: another orthography or an alias (Tula, Toula; Kyiv, Kiev);
- ``compound``: the term is the first part or the head of a closed compound
  (Rakete, Raketenangriff; Drohne, Kampfdrohne).

A hit may carry two kinds: Kaluga found as «Калуге» is transliterated and inflected.
"""

from __future__ import annotations

from functools import lru_cache

from alerts.matching.languages import COMPOUNDING
from alerts.matching.text import words
from alerts.matching.translit import script, to_cyrillic, to_latin
from alerts.rules.confidence import RANK, How, rank

EXACT: tuple[How, ...] = ("exact",)
# Languages that write compounds closed: elsewhere a long tail is another spelling.
_MAX_ENDING = 4  # letters an inflection may add beyond the shared stem (Moskovassa: "ssa")
_MAX_CUT = 2  # letters an inflection may take off the term (Rakete -> Raket|en)
_MIN_PART = 3  # letters of the term a compound must keep, and of the other part
# Slavic stems alternate their last consonant before some endings (Рига -> Ризі, ризький).
_ALTERNATES = {"г": "зжґ", "к": "цч", "х": "сш", "h": "zž", "g": "zž", "k": "cč"}


def describe(term: str, found: str, language: str | None) -> tuple[How, ...]:
    """How the item's text ``found`` answers ``term`` (as written), in the item's language."""
    return _describe(term, found, (language or "").lower().split("-")[0])


@lru_cache(maxsize=1 << 16)
def _describe(term: str, found: str, language: str) -> tuple[How, ...]:
    wanted, got = words(term), words(found)
    if len(wanted) != len(got):  # a hyphenated or closed form of a phrase: compare joined
        wanted, got = ["".join(wanted)], ["".join(got)]
    kinds: set[How] = set()
    for t, w in zip(wanted, got, strict=True):
        kinds.update(word_kinds(t, w, language))
    if len(kinds) > 1:
        kinds.discard("exact")
    return tuple(sorted(kinds, key=_transliterated_first)) or EXACT


def _transliterated_first(kind: str) -> int:
    return -1 if kind == "transliterated" else RANK[kind]


def word_kinds(term: str, word: str, language: str = "") -> tuple[How, ...]:
    """How one normalised item word answers one normalised term word."""
    if term == word:
        return EXACT
    if term and word and script(term) != script(word):
        spelled = to_cyrillic(term) if script(word) == "cyr" else to_latin(term)
        best = min((_same_script(s, word, language) for s in spelled), key=rank)
        return ("transliterated",) if best == EXACT else ("transliterated", *best)
    return _same_script(term, word, language)


def _same_script(term: str, word: str, language: str) -> tuple[How, ...]:
    if term == word:
        return EXACT
    shared = _shared_stem(term, word)
    cut, tail = len(term) - shared, len(word) - shared
    if shared >= _MIN_PART and cut <= _MAX_CUT:
        if tail <= _MAX_ENDING:
            return ("inflected",)
        if tail - _MAX_ENDING >= _MIN_PART and language in COMPOUNDING | {""}:
            return ("compound",)
    if language in COMPOUNDING | {""} and _is_head(term, word):
        return ("compound",)
    return ("other_spelling",)


def _is_head(term: str, word: str) -> bool:
    """Whether the term, maybe inflected, ends a longer word: Drohne in Kampfdrohnen."""
    for cut in range(min(_MAX_CUT, len(term) - _MIN_PART) + 1):
        stem = term[: len(term) - cut]
        at = word.rfind(stem)
        if at >= _MIN_PART and len(word) - at - len(stem) <= _MAX_ENDING:
            return True
    return False


def _shared_stem(term: str, word: str) -> int:
    """Letters the two words share at the start, one alternating last consonant allowed."""
    n = 0
    for a, b in zip(term, word, strict=False):
        if a != b:
            if b in _ALTERNATES.get(a, "") and n >= _MIN_PART - 1:
                return n + 1
            break
        n += 1
    return n
