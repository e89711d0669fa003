"""Word keys: one term, every script and inflection.

Every normalised word of an item gets one *key*; a term gets the set of keys it accepts.
A key is the Snowball stem (English for Latin words, Russian for Cyrillic, Ukrainian
letters folded first) reduced to a spelling skeleton, so "Zelenskyy" and "Selenskyj"
share a key while "Kalugin" and "Kaluga" do not. Cyrillic and Latin keys never meet:
a term is transliterated (Russian and Ukrainian conventions) to reach the other script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import snowballstemmer

from alerts.matching.translit import (
    by_script,
    script,
    to_cyrillic,
    to_cyrillic_many,
    to_latin,
    to_latin_many,
)

_EN = snowballstemmer.stemmer("english")
_RU = snowballstemmer.stemmer("russian")
_MIN_STEM = 3
_BATCH = 8192
_DOUBLE = re.compile(r"([a-z])\1+")
_LAT_SKELETON = str.maketrans({"y": "i", "j": "i", "z": "s", "w": "v"})
_CYR_FOLD = str.maketrans({"і": "и", "ї": "и", "є": "е", "ґ": "г", "ь": None, "ъ": None})

# Names whose forms are not transliterations of each other (renamed or exonyms).
ALIASES: tuple[frozenset[str], ...] = tuple(
    frozenset(group.split())
    for group in (
        "kyiv kiev київ киев",
        "kharkiv kharkov харків харьков",
        "odesa odessa одеса одесса",
        "lviv lvov львів львов",
        "mykolaiv nikolaev nikolayev миколаїв николаев",
        "dnipro dnepr дніпро днепр",
        "chornobyl chernobyl чорнобиль чернобыль",
        "zaporizhzhia zaporizhia zaporozhye запоріжжя запорожье",
    )
)
_ALIAS_OF = {word: group for group in ALIASES for word in group}


def _latin(stem: str, word: str) -> str:
    if len(stem) < _MIN_STEM:
        stem = word
    return _DOUBLE.sub(r"\1", stem.replace("kh", "h").translate(_LAT_SKELETON))


def _cyrillic(stem: str, folded: str) -> str:
    return stem if len(stem) >= _MIN_STEM else folded


def _keyed(words: Iterable[str]) -> dict[str, str]:
    """Keys of distinct words, by word; each step runs once over the whole batch."""
    lat, cyr, other = by_script(list(words))
    out = dict(zip(other, other, strict=True))
    if lat:
        stems = _EN.stemWords(lat)
        chosen = [s if len(s) >= _MIN_STEM else w for s, w in zip(stems, lat, strict=True)]
        # One pass over the joined stems: no step of the skeleton can cross a newline.
        joined = "\n".join(chosen).replace("kh", "h").translate(_LAT_SKELETON)
        out.update(zip(lat, _DOUBLE.sub(r"\1", joined).split("\n"), strict=True))
    if cyr:
        folded = _fold_many("\n".join(cyr)).split("\n")
        stems = _RU.stemWords(folded)
        out.update(zip(cyr, map(_cyrillic, stems, folded), strict=True))
    return out


def _fold_many(text: str) -> str:
    """``translate(_CYR_FOLD)`` of a long text: six C-speed replaces beat a dict per char."""
    for letter, folded in _CYR_FOLD.items():
        text = text.replace(chr(letter), folded or "")
    return text


def word_keys(words: list[str]) -> list[str]:
    """Keys of many words at once; the Snowball stemmers run over the whole batch.

    Latin words: English stem, then a spelling skeleton (y/j->i, z->s, kh->h, no doubled
    letters). Cyrillic words: Ukrainian letters folded (і/ї->и, є->е, ґ->г, no soft sign),
    then the Russian stem. A stem shorter than three letters keeps the whole word.
    """
    return list(map(_keyed(words).__getitem__, words))


def word_key(word: str) -> str:
    """The one key of a normalised word of an item (see ``word_keys``)."""
    kind = script(word)
    if kind == "lat":
        return latin_key(word)
    if kind == "cyr":
        return cyrillic_key(word)
    return word


def latin_key(word: str) -> str:
    """Key of a Latin word (see ``word_keys``)."""
    return _latin(_EN.stemWord(word), word)


def cyrillic_key(word: str) -> str:
    """Key of a Cyrillic word (see ``word_keys``)."""
    folded = word.translate(_CYR_FOLD)
    return _cyrillic(_RU.stemWord(folded), folded)


def adjective_key(key: str) -> str | None:
    """Russian adjective stem of a place name: Калуга -> калужск, Рига -> рижск."""
    mutation = {"г": "ж", "к": "ц", "х": "ш"}
    if len(key) >= 3 and key[-1] in mutation:
        return key[:-1] + mutation[key[-1]] + "ск"
    return None


def spellings(word: str) -> frozenset[str]:
    """A term word and its aliases, transliterated into the other script."""
    out = set(_ALIAS_OF.get(word, {word}))
    for spelling in list(out):
        kind = script(spelling)
        if kind == "lat":
            out |= to_cyrillic(spelling)
        elif kind == "cyr":
            out |= to_latin(spelling)
    return frozenset(out)


def term_key_tuples(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The keys of many term words, sorted; their spellings are stemmed in batches."""
    out: dict[str, tuple[str, ...]] = {}
    todo = list(set(words))
    for at in range(0, len(todo), _BATCH):
        out.update(_key_tuples(todo[at : at + _BATCH]))
    return out


def _spellings_many(words: list[str]) -> list[frozenset[str]]:
    """``spellings`` of many words, transliterated in batches."""
    plain = [w for w in words if w not in _ALIAS_OF]
    lat, cyr, other = by_script(plain)
    forms = {w: frozenset({w}) for w in other}
    forms.update((w, frozenset({w, *c})) for w, c in zip(lat, to_cyrillic_many(lat), strict=True))
    forms.update((w, frozenset({w, *c})) for w, c in zip(cyr, to_latin_many(cyr), strict=True))
    return [forms[w] if w in forms else spellings(w) for w in words]


def _key_tuples(words: list[str]) -> dict[str, tuple[str, ...]]:
    # In batches: the spellings and their keys are only needed until the word's keys are known.
    forms = _spellings_many(words)
    every = set().union(*forms) if forms else set()
    keyed = _keyed(every)
    # Cyrillic spellings ending in -а also accept their adjective (Калуга -> калужск).
    adjectives = {
        s: a
        for s in every
        if s[-1:] == "а" and script(s) == "cyr" and (a := adjective_key(keyed[s])) is not None
    }
    out = {}
    for word, spelled in zip(words, forms, strict=True):
        keys = set(map(keyed.__getitem__, spelled))
        keys.update(filter(None, map(adjectives.get, spelled)))
        out[word] = tuple(sorted(keys))
    return out
