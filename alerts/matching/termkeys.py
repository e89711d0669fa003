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
import re
from collections.abc import Collection, Iterable
from typing import NamedTuple

from alerts.matching import foreign
from alerts.matching.foreign import slavic
from alerts.matching.gender import (
    feminine,
    feminine_many,
    masculine_many,
    ov_surname,
    ov_twin,
    twin_table,
    twins,
)
from alerts.matching.languages import (
    ALGORITHMS,
    DEFAULT,
    LANGUAGES,
)
from alerts.matching.names import (
    LATIN_LANGUAGES,
    cyrillic_forms,
    finnish_forms,
    latin_forms,
)
from alerts.matching.orthography import EXONYMS, READERS, genitives, respell
from alerts.matching.translit import script
from alerts.matching.variants import (
    ALIAS_OF,
    _keyed,
    cyrillic_keys,
    latin_keys,
    spellings_many,
)

_BATCH = 8192
_RUSSIAN_ADJECTIVE = {"г": "ж", "к": "ц", "х": "ш"}  # Рига -> рижский
# A Cyrillic word (``translit.script``) ending in -а, one per line of newline-joined words.
_CYRILLIC_IN_A = re.compile("^[\u0400-\u04ff0-9]*а$", re.MULTILINE)
Langs = frozenset[str]
_NO_KEYS: dict[str, Langs] = {}


class TermKeys(NamedTuple):
    """A term word's keys: ``every`` hold in any item, ``only`` in items of their languages."""

    every: tuple[str, ...]
    only: dict[str, Langs] = _NO_KEYS  # never modified: shared by every word without any

    def all(self) -> tuple[str, ...]:
        """Every key, whatever the language."""
        return (*self.every, *self.only) if self.only else self.every


def adjective_key(key: str) -> str | None:
    """Russian adjective stem of a place name: Калуга -> калужск, Рига -> рижск."""
    if len(key) >= 3 and key[-1] in _RUSSIAN_ADJECTIVE:
        return key[:-1] + _RUSSIAN_ADJECTIVE[key[-1]] + "ск"
    return None


def term_keys(
    words: Iterable[str], names: Collection[str] | None = None, stems: bool = True
) -> dict[str, TermKeys]:
    """The keys of many term words; ``names`` (default: all) also get other orthographies.

    ``stems=False`` leaves out the keys of each language's stemmer: the index adds those
    for a language when its first item comes (``langview``), so a build does not pay for
    a dozen stemmers over every word.
    """
    out: dict[str, TermKeys] = {}
    todo = list(set(words))
    for at in range(0, len(todo), _BATCH):
        out.update(_batch(todo[at : at + _BATCH], names, stems))
    return out


def _batch(words: list[str], names: Collection[str] | None, stems: bool) -> dict[str, TermKeys]:
    forms = spellings_many(words)
    every = set().union(*forms) if forms else set()
    keyed = _keyed(every)
    named = [w for w in words if names is None or w in names]
    # A surname's gender forms are its own business (gender): no place forms for it.
    masculine = masculine_many(words)
    places = [w for w in named if w not in masculine and feminine(w) is None]
    adjectives = _adjectives(every, keyed)
    extra = _place_forms(set().union(*(forms[i] for i in _where(words, places))))
    place_set = set(places)
    only_of = _latin_names(places)
    _finnish(words, only_of)
    # A name that is not Slavic keeps its own letters in Latin-script languages (foreign).
    respelled = [w for w in named if script(w) != "lat" or slavic(w)]
    _respellings(named, only_of)
    for word, found in _orthographies(
        respelled, [forms[i] for i in _where(words, respelled)]
    ).items():
        for key, langs in found.items():
            only_of.setdefault(word, {}).setdefault(key, set()).update(langs)
    _exonyms(places, only_of)
    slavic_places = [w for w in places if script(w) != "lat" or slavic(w)]
    _respelled_cases([forms[i] for i in _where(words, slavic_places)], slavic_places, only_of)
    if stems:
        # Stemmed in every language: the spellings of words written in Latin script (a word
        # written in Cyrillic is looked for in Cyrillic, and in Latin under its English keys).
        latin = {s for w, f in zip(words, forms, strict=True) if script(w) == "lat" for s in f}
        per_lang = _language_keys(sorted(s for s in latin if script(s) == "lat"), keyed)
        for word, spelled in zip(words, forms, strict=True):
            for s in spelled:
                for key, langs in per_lang.get(s, {}).items():
                    only_of.setdefault(word, {}).setdefault(key, set()).update(langs)
    # Feminine twins, worked out once per distinct key (Брянская, Калужская).
    twin_of = twin_table({*keyed.values(), *adjectives.values()})
    langsets: dict[frozenset[str], Langs] = {}
    out = {}
    for word, spelled in zip(words, forms, strict=True):
        keys = _spelled_keys(spelled, keyed, adjectives)
        if word in place_set:
            for s in spelled:
                keys |= extra.get(s, set())
        only = only_of.get(word)
        if word not in masculine:
            if word in place_set:
                keys |= twins(keys)
            else:
                _add_twins(keys, twin_of)
            if only:
                for key, langs in list(only.items()):
                    for twin in twins([key]):
                        only.setdefault(twin, set()).update(langs)
            if ov_surname(word):  # Budanov is not Будановой (gender)
                keys = {k for k in keys if not ov_twin(k)}
                if only:
                    only = {k: v for k, v in only.items() if not ov_twin(k)}
        if not only:
            out[word] = TermKeys(tuple(sorted(keys)))
            continue
        kept = {k: langsets.setdefault(frozenset(v), frozenset(v)) for k, v in only.items()}
        out[word] = TermKeys(tuple(sorted(keys)), {k: v for k, v in kept.items() if k not in keys})
    return out


# Plain loops, not map/filter: compiled by mypyc, each step is one C call.
def _spelled_keys(
    spelled: frozenset[str], keyed: dict[str, str], adjectives: dict[str, str]
) -> set[str]:
    """The keys of a word's spellings, with their Russian adjective keys."""
    keys = set()
    for s in spelled:
        keys.add(keyed[s])
        adjective = adjectives.get(s)
        if adjective is not None:
            keys.add(adjective)
    return keys


def _add_twins(keys: set[str], twin_of: dict[str, str]) -> None:
    """Add the feminine twin of every key that has one."""
    for key in list(keys):
        twin = twin_of.get(key)
        if twin is not None:
            keys.add(twin)


def _language_keys(lat: list[str], keyed: dict[str, str]) -> dict[str, dict[str, set[str]]]:
    """Per Latin spelling whose stem differs by language: its keys and their languages."""
    roots = feminine_many(lat)  # the same in every language: found once
    langs = [lang for lang in LANGUAGES if lang != DEFAULT]
    by_algorithm: dict[str, list[str]] = {}
    for lang in langs:  # Slovak is stemmed as Czech: one pass for both
        if ALGORITHMS[lang] not in by_algorithm:
            by_algorithm[ALGORITHMS[lang]] = latin_keys(lat, lang, roots)
    columns = [by_algorithm[ALGORITHMS[lang]] for lang in langs]
    out: dict[str, dict[str, set[str]]] = {}
    for s, *row in zip(lat, *columns, strict=True):
        base = keyed[s]
        if row.count(base) == len(row):
            continue  # most words: every stemmer agrees with English
        found: dict[str, set[str]] = {}
        for lang, key in zip(langs, row, strict=True):
            if key != base:
                found.setdefault(key, set()).add(lang)
        out[s] = found
    return out


def _where(words: list[str], subset: list[str]) -> list[int]:
    if not subset:  # most batches have no names: no pass over every word
        return []
    wanted = set(subset)
    return [i for i, w in enumerate(words) if w in wanted]


def _adjectives(every: set[str], keyed: dict[str, str]) -> dict[str, str]:
    """Per Cyrillic spelling ending in -а: its Russian adjective key (Калуга -> калужск)."""
    out = {}
    # One regex scan of the joined spellings finds the Cyrillic ones ending in -а
    # (``script`` is "cyr" for exactly these letters) instead of a test per spelling.
    for s in _CYRILLIC_IN_A.findall("\n".join(every)):
        adjective = adjective_key(keyed[s])
        if adjective is not None:
            out[s] = adjective
    return out


def _place_forms(spellings: set[str]) -> dict[str, set[str]]:
    """Per Cyrillic spelling of a place: the keys of its case forms and adjectives."""
    cyr = [s for s in spellings if script(s) == "cyr"]
    forms = [cyrillic_forms(s) for s in cyr]
    keys = cyrillic_keys([f for fs in forms for f in fs])
    out, at = {}, 0
    for s, fs in zip(cyr, forms, strict=True):
        out[s] = set(keys[at : at + len(fs)])
        at += len(fs)
    return out


def _finnish(words: list[str], out: dict[str, dict[str, set[str]]]) -> None:
    """Keys of the Finnish stem-changed forms of the words that have them (ohjuksella)."""
    ending = [w for w in words if w[-1:] == "s"]
    forms = {w: f for w in ending if script(w) == "lat" and (f := finnish_forms(w))}
    keys = iter(latin_keys([f for fs in forms.values() for f in fs], "fi"))
    for word, fs in forms.items():
        for key in itertools.islice(keys, len(fs)):
            out.setdefault(word, {}).setdefault(key, set()).add("fi")


def _exonyms(places: list[str], out: dict[str, dict[str, set[str]]]) -> None:
    """Keys of the exonyms of each place of an alias group, bound to their own language."""
    for word in places:
        for member in ALIAS_OF.get(word, (word,)):  # a place without aliases has its own
            for lang, names in EXONYMS.get(member, {}).items():
                forms = [f for n in names for f in (n, *latin_forms(n, lang))]  # Charkowem
                for key in latin_keys(forms, lang):
                    out.setdefault(word, {}).setdefault(key, set()).add(lang)


def _respellings(named: list[str], out: dict[str, dict[str, set[str]]]) -> None:
    """Keys of each language's respellings of the Latin names (Araghtschi, Jamenei, Arakczi)."""
    lat = [w for w in named if script(w) == "lat"]
    for lang in foreign.RULES:
        forms = [foreign.respellings(w, lang) for w in lat]
        if not any(forms):
            continue
        for reader in foreign.READERS.get(lang, (lang,)):
            keys = iter(latin_keys([f for fs in forms for f in fs], reader))
            for word, fs in zip(lat, forms, strict=True):
                for key in itertools.islice(keys, len(fs)):
                    out.setdefault(word, {}).setdefault(key, set()).add(reader)


def _respelled_cases(
    forms: list[frozenset[str]], places: list[str], out: dict[str, dict[str, set[str]]]
) -> None:
    """Keys of the Polish, Czech and Slovak case forms of a place's spellings in their own
    orthography (Belgorod: Biełgorodzie, Bělgorodu), bound to those languages."""
    cyr = sorted({s for spelled in forms for s in spelled if script(s) == "cyr"})
    if not cyr:
        return
    by_scheme = respell(cyr)
    spelled_as = {lang: {s: by_scheme[scheme][i] for i, s in enumerate(cyr)} for lang, scheme in
                  (("pl", "pl"), ("cs", "cs"), ("sk", "cs"))}  # fmt: skip
    for lang, of in spelled_as.items():
        cases = [
            sorted({f for s in sp if s in of for f in latin_forms(of[s], lang)}) for sp in forms
        ]
        keys = iter(latin_keys([f for fs in cases for f in fs], lang))  # one batch per language
        for place, fs in zip(places, cases, strict=True):
            for key in itertools.islice(keys, len(fs)):
                out.setdefault(place, {}).setdefault(key, set()).add(lang)


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
    for word, spellings in zip(words, forms, strict=True):
        found: dict[str, set[str]] = {}
        out[word] = found
        for s in spellings:
            for key, langs in keys.get(s, {}).items():
                found.setdefault(key, set()).update(langs)
    return out
