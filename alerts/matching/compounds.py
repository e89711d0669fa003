"""Closed compounds (de, nl, sv, da, no, fi): a term found as the first part or the head.

A long word of an item in a compounding language also carries the keys of its leading
and trailing parts (Raketenangriff: raket..., ...angriff), each part at least
``MIN_PART`` letters, so a short lookalike (droht) is never split. The parts are keyed by
the item language's stemmer, once per distinct (language, word), and remembered: every
language's words together in at most ``CACHE_BYTES`` (counted as ``sys.getsizeof`` sees the
words, their part keys and a dict entry), after which they start over. The parts are
remembered too (a part's key, by language, in the same budget): new words are mostly new
arrangements of parts seen before (Raketen|angriff, Luft|angriff), so a part is stemmed
once, not once per word that holds it.
"""

from __future__ import annotations

import itertools
import sys
from typing import cast

from alerts.gcpause import give_back_freed
from alerts.matching.translit import script
from alerts.matching.variants import latin_keys

MIN_PART = 5  # letters in the part a term is found as
MIN_REST = 4  # letters left for the other part
MIN_WORD = MIN_PART + MIN_REST
CACHE_BYTES = 32 * 2**20  # every language's remembered words (see set_cache_bytes)
_ENTRY = 48  # bytes of a dict entry and its share of the free slots
# Endings that make a word of a word (verbs and adjectives of a noun, definite plurals):
# what follows a leading part must be a word, so Sanktionerad is no compound of Sanktion.
_SUFFIXES = {
    "de": "ieren iert ierte ierten ierung ierungen isch ische ischen ischer lich liche lichen",
    "nl": "eren eerde eerden eerd ering eringen isch ische lijk lijke",
    "sv": "erad erade erat erar eras ering eringen eringar erna arna orna ande ende isk iska",
    "da": "eret erede erer ering eringen erne ende isk iske",
    "no": "ert erte erer ering eringen ene ende isk iske",
}
SUFFIXES = {lang: frozenset(ends.split()) for lang, ends in _SUFFIXES.items()}
_NONE: frozenset[str] = frozenset()
_CACHE: dict[str, dict[str, tuple[str, ...]]] = {}  # language -> word -> part keys
_PARTS: dict[str, dict[str, str]] = {}  # language -> part -> its key
_held = [0]  # bytes of the entries in both (their dicts' own tables are added by nbytes)


def set_cache_bytes(budget: int) -> None:
    """Bound the remembered words to ``budget`` bytes (a worker's settings, at start)."""
    global CACHE_BYTES
    if budget < 1:
        raise ValueError("the compound cache needs a positive number of bytes")
    CACHE_BYTES = budget
    clear()


def clear() -> None:
    """Forget every remembered word."""
    _CACHE.clear()
    _PARTS.clear()
    _held[0] = 0


def nbytes() -> int:
    """Bytes the remembered words and parts hold, as counted against ``CACHE_BYTES``."""
    tables = sum(map(sys.getsizeof, _CACHE.values())) + sum(map(sys.getsizeof, _PARTS.values()))
    return _held[0] + tables


def part_keys(
    words: list[str], language: str, owns: list[str] | None = None
) -> list[tuple[str, ...]]:
    """The keys of each word's leading and trailing parts (none for a short word).

    ``owns``: each word's own key in ``language`` (``keytable``'s), when the caller has them:
    a part with the word's own key is left out, and the word need not be stemmed again.
    """
    known = _CACHE.get(language, {})
    todo = list(itertools.filterfalse(known.__contains__, dict.fromkeys(words)))
    if not todo:
        return list(map(known.__getitem__, words))
    own = dict(zip(words, owns, strict=True)) if owns is not None else None
    learnt, parts = _learn(todo, language, own)
    _remember(learnt, parts, language)  # may start over: ``known`` still holds what it held
    return [learnt[w] if w in learnt else known[w] for w in words]


def _remember(learnt: dict[str, tuple[str, ...]], parts: dict[str, str], language: str) -> None:
    """Keep newly keyed words and parts, starting over when they would pass ``CACHE_BYTES``."""
    tuples = [keys for keys in learnt.values() if keys]
    size = _ENTRY * (len(learnt) + len(parts)) + _TUPLE * len(tuples)
    size += _text_bytes([*learnt, *parts, *parts.values(), *itertools.chain.from_iterable(tuples)])
    size += _SLOT * sum(map(len, tuples))
    if nbytes() + size > CACHE_BYTES:
        clear()
        give_back_freed()  # rare: what was freed in the C heap's middle goes back
        if size + sys.getsizeof(learnt) + sys.getsizeof(parts) > CACHE_BYTES:
            return
    _CACHE.setdefault(language, {}).update(learnt)
    _PARTS.setdefault(language, {}).update(parts)
    _held[0] += size


# ``sys.getsizeof`` of a tuple and of an ASCII str, in parts: a header and so much an item
# (a pointer; a letter). Summed from these, a batch costs no call per string.
_TUPLE = sys.getsizeof(())
_SLOT = sys.getsizeof((None,)) - _TUPLE
_STR = sys.getsizeof("")


def _text_bytes(texts: list[str]) -> int:
    """``sys.getsizeof`` summed over strings (from their lengths when all are ASCII)."""
    if "".join(texts).isascii():
        return _STR * len(texts) + sum(map(len, texts))
    return sum(map(sys.getsizeof, texts))


def _learn(
    words: list[str], language: str, own: dict[str, str] | None = None
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """Each word's part keys (the empty tuple, shared, for most), and the parts keyed anew.

    ``own``: the words' own keys, when known (else they are keyed here).
    """
    parts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    suffixes = SUFFIXES.get(language, _NONE)
    for word in words:
        n = len(word)
        if n < MIN_WORD or not word.isalpha() or not (word.isascii() or script(word) == "lat"):
            continue
        start = len(parts)
        if suffixes:
            parts += [
                word[:i] for i in range(MIN_PART, n - MIN_REST + 1) if word[i:] not in suffixes
            ]
        else:
            parts += [word[:i] for i in range(MIN_PART, n - MIN_REST + 1)]
        parts += [word[i:] for i in range(MIN_REST, n - MIN_PART + 1)]
        spans.append((word, start, len(parts)))
    out: dict[str, tuple[str, ...]] = dict.fromkeys(words, ())
    if not spans:
        return out, {}
    keyed = _PARTS.get(language, {})
    new = list(itertools.filterfalse(keyed.__contains__, dict.fromkeys(parts)))
    fresh = dict(zip(new, map(sys.intern, latin_keys(new, language)), strict=True))
    # Each part's key, new or kept (a part is in one of the two: never None).
    keys = cast(list[str], list(map(fresh.get, parts, map(keyed.get, parts))))
    if own is None:
        owns = latin_keys([word for word, _, _ in spans], language)
    else:
        owns = [own[word] for word, _, _ in spans]
    for (word, a, b), mine in zip(spans, owns, strict=True):
        distinct = dict.fromkeys(keys[a:b])
        distinct.pop(mine, None)  # a part keyed as the whole word adds nothing
        out[word] = tuple(distinct)
    return out, fresh
