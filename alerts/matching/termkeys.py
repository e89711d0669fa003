"""The keys a term word accepts: those that hold in every language, and those of one language.

``every``: the English-and-Russian keys of the word's spellings (aliases, both scripts),
the Russian and Ukrainian place adjectives and Ukrainian consonant changes of a Cyrillic
name (Рига: рижский, ризький, Ризі). ``only``: keys of one item language or a few, by
key: the word stemmed by each language's stemmer (Raketen, Tuly, Tulassa), and, for a
name, its spellings in each language's orthography (Toula, Brjansk, Charkiw) stemmed by
that language. A key of ``only`` counts only in an item of one of its languages, so a
Finnish stem never fires a watch on an English item. Every step runs over a batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from alerts.matching.gender import feminine, masculine_surname, twins
from alerts.matching.languages import LANGUAGES
from alerts.matching.names import LATIN_LANGUAGES, cyrillic_forms, finnish_forms, latin_forms
from alerts.matching.orthography import READERS, genitives, respell
from alerts.matching.translit import script
from alerts.matching.variants import _keyed, cyrillic_keys, latin_keys, spellings_many

_BATCH = 8192
_RUSSIAN_ADJECTIVE = {"г": "ж", "к": "ц", "х": "ш"}  # Рига -> рижский
Langs = frozenset[str]


@dataclass(frozen=True, slots=True)
class TermKeys:
    """A term word's keys: ``every`` hold in any item, ``only`` in items of their languages."""

    every: tuple[str, ...]
    only: dict[str, Langs] = field(default_factory=dict)

    def all(self) -> tuple[str, ...]:
        """Every key, whatever the language."""
        return (*self.every, *self.only)


def adjective_key(key: str) -> str | None:
    """Russian adjective stem of a place name: Калуга -> калужск, Рига -> рижск."""
    if len(key) >= 3 and key[-1] in _RUSSIAN_ADJECTIVE:
        return key[:-1] + _RUSSIAN_ADJECTIVE[key[-1]] + "ск"
    return None



def term_keys(
    words: Iterable[str], names: Collection[str] | None = None
) -> dict[str, TermKeys]:
    """The keys of many term words; ``names`` (default: all) also get other orthographies."""
    out: dict[str, TermKeys] = {}
    todo = list(set(words))
    for at in range(0, len(todo), _BATCH):
        out.update(_batch(todo[at : at + _BATCH], names))
    return out


def _batch(words: list[str], names: Collection[str] | None) -> dict[str, TermKeys]:
    forms = spellings_many(words)
    every = set().union(*forms) if forms else set()
    keyed = _keyed(every)
    named = [w for w in words if names is None or w in names]
    # A surname's gender forms are its own business (gender): no place forms for it.
    places = [w for w in named if not masculine_surname(w) and feminine(w) is None]
    latin = _latin_names(places)
    _finnish(words, latin)
    extra = _cyrillic_extras(every, keyed, set().union(*(forms[i] for i in _where(words, places))))
    lat = sorted(s for s in every if script(s) == "lat")
    per_lang = {lang: dict(zip(lat, latin_keys(lat, lang), strict=True)) for lang in LANGUAGES}
    orth = _orthographies(named, [forms[i] for i in _where(words, named)])
    langsets: dict[frozenset[str], Langs] = {}
    out = {}
    for word, spelled in zip(words, forms, strict=True):
        keys = set(map(keyed.__getitem__, spelled))
        for s in spelled:
            keys |= extra.get(s, set())
        only: dict[str, set[str]] = {}
        for lang, table in per_lang.items():
            for s in spelled:
                if s in table:
                    only.setdefault(table[s], set()).add(lang)
        for key, langs in orth.get(word, {}).items():
            only.setdefault(key, set()).update(langs)
        for key, langs in latin.get(word, {}).items():
            only.setdefault(key, set()).update(langs)
        if not masculine_surname(word):
            keys |= twins(keys)
            for key, langs in list(only.items()):
                for twin in twins([key]):
                    only.setdefault(twin, set()).update(langs)
        kept = {k: langsets.setdefault(frozenset(v), frozenset(v)) for k, v in only.items()}
        out[word] = TermKeys(tuple(sorted(keys)), {k: v for k, v in kept.items() if k not in keys})
    return out


def _where(words: list[str], subset: list[str]) -> list[int]:
    wanted = set(subset)
    return [i for i, w in enumerate(words) if w in wanted]


def _cyrillic_extras(
    every: set[str], keyed: dict[str, str], named: set[str]
) -> dict[str, set[str]]:
    """Per Cyrillic spelling: its adjective keys (and, for names, alternations)."""
    out: dict[str, set[str]] = {}
    for s in every:
        if s[-1:] == "а" and script(s) == "cyr":
            adjective = adjective_key(keyed[s])
            if adjective is not None:
                out[s] = {adjective}
    cyr = [s for s in named if script(s) == "cyr"]
    forms = [cyrillic_forms(s) for s in cyr]
    keys = cyrillic_keys([f for fs in forms for f in fs])
    at = 0
    for s, fs in zip(cyr, forms, strict=True):
        out.setdefault(s, set()).update(keys[at : at + len(fs)])
        at += len(fs)
    return out


def _finnish(words: list[str], out: dict[str, dict[str, set[str]]]) -> None:
    """Keys of the Finnish stem-changed forms of the words that have them (ohjuksella)."""
    forms = {w: f for w in words if script(w) == "lat" and (f := finnish_forms(w))}
    keys = iter(latin_keys([f for fs in forms.values() for f in fs], "fi"))
    for word, fs in forms.items():
        for key in itertools.islice(keys, len(fs)):
            out.setdefault(word, {}).setdefault(key, set()).add("fi")


def _latin_names(named: list[str]) -> dict[str, dict[str, set[str]]]:
    """Per Latin name: keys of its Czech, Slovak and Polish case forms and adjectives."""
    out: dict[str, dict[str, set[str]]] = {}
    lat = [w for w in named if script(w) == "lat"]
    for lang in LATIN_LANGUAGES:
        forms = [latin_forms(w, lang) for w in lat]
        keys = latin_keys([f for fs in forms for f in fs], lang)
        at = 0
        for w, fs in zip(lat, forms, strict=True):
            for key in keys[at : at + len(fs)]:
                out.setdefault(w, {}).setdefault(key, set()).add(lang)
            at += len(fs)
    return out


def _orthographies(words: list[str], forms: list[frozenset[str]]) -> dict[str, dict[str, set[str]]]:
    """Per name: the keys of its spellings in each orthography, with the languages reading them."""
    cyr = sorted({s for spelled in forms for s in spelled if script(s) == "cyr"})
    if not cyr:
        return {}
    by_scheme = respell(cyr)
    keys: dict[str, dict[str, set[str]]] = {s: {} for s in cyr}  # spelling -> key -> langs
    for scheme in ("de", "nl", "sv"):
        by_scheme[scheme + "-s"] = genitives(by_scheme[scheme])
    for scheme, spelled in by_scheme.items():
        readers = READERS[scheme.removesuffix("-s")]
        for lang in LANGUAGES if readers == ("*",) else readers:
            for s, key in zip(cyr, latin_keys(spelled, lang), strict=True):
                keys[s].setdefault(key, set()).add(lang)
    out: dict[str, dict[str, set[str]]] = {}
    for word, spelled in zip(words, forms, strict=True):
        found = out[word] = {}
        for s in spelled:
            for key, langs in keys.get(s, {}).items():
                found.setdefault(key, set()).update(langs)
    return out
