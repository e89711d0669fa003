"""Closed compounds (de, nl, sv, da, no, fi): a term found as the first part or the head.

A long word of an item in a compounding language also carries the keys of its leading
and trailing parts (Raketenangriff: raket..., ...angriff), each part at least
``MIN_PART`` letters, so a short lookalike (droht) is never split. The parts are keyed by
the item language's stemmer, once per distinct (language, word), and remembered.
"""

from __future__ import annotations

from alerts.matching.translit import script
from alerts.matching.variants import latin_keys

MIN_PART = 5  # letters in the part a term is found as
MIN_REST = 4  # letters left for the other part
MIN_WORD = MIN_PART + MIN_REST
MAX_CACHED = 200_000
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
_CACHE: dict[tuple[str, str], tuple[str, ...]] = {}


def part_keys(words: list[str], language: str) -> list[tuple[str, ...]]:
    """The keys of each word's leading and trailing parts (none for a short word)."""
    todo = [w for w in dict.fromkeys(words) if (language, w) not in _CACHE]
    if todo:
        _learn(todo, language)
    return [_CACHE.get((language, w), ()) for w in words]


def _learn(words: list[str], language: str) -> None:
    parts: list[str] = []
    spans: list[tuple[str, int, int]] = []
    suffixes = SUFFIXES.get(language, _NONE)
    for word in words:
        if len(word) < MIN_WORD or not word.isalpha() or script(word) != "lat":
            continue
        cuts = [i for i in range(MIN_PART, len(word) - MIN_REST + 1) if word[i:] not in suffixes]
        heads = range(MIN_REST, len(word) - MIN_PART + 1)
        start = len(parts)
        parts += [word[:i] for i in cuts]
        parts += [word[i:] for i in heads]
        spans.append((word, start, len(parts)))
    if len(_CACHE) + len(words) > MAX_CACHED:
        _CACHE.clear()
    keys = latin_keys(parts, language) if parts else []
    for word in words:
        _CACHE[language, word] = ()
    owns = latin_keys([word for word, _, _ in spans], language)
    for (word, a, b), own in zip(spans, owns, strict=True):
        _CACHE[language, word] = tuple(k for k in dict.fromkeys(keys[a:b]) if k != own)
