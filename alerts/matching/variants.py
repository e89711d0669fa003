"""Word keys: one term, every script and inflection.

Every normalised word of an item gets one *key*, in the item's language; a term gets the
keys it accepts (``alerts.matching.termkeys``). A Latin word's key is the Snowball stem of
the item's language (``languages``; English when unknown) reduced to a spelling skeleton,
so "Zelenskyy" and "Selenskyj" share a key while "Kalugin" and "Kaluga" do not; ł is l.
A Cyrillic word's key is its Russian stem, Ukrainian letters folded first. A feminine
surname form (Zelenska, Зеленської) is keyed apart from the masculine (``gender``).
Cyrillic and Latin keys never meet: a term is transliterated to reach the other script.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from alerts.matching.gender import FEMININE, feminine_many, in_language
from alerts.matching.languages import snowball, stem_language, stem_words
from alerts.matching.translit import (
    by_script,
    script,
    to_cyrillic,
    to_cyrillic_many,
    to_latin,
    to_latin_many,
)

_RU = snowball("russian")
_MIN_STEM = 3
# A letter the same letter follows: deleting each leaves one of every run (a plain "" for
# the replacement keeps the substitution in C; an r"\1" template calls Python per match).
_DOUBLED = re.compile(r"([a-z])(?=\1)")
_LAT_SKELETON = str.maketrans({"y": "i", "j": "i", "z": "s", "w": "v", "ł": "l"})
_UK_OI = re.compile("ої$", re.MULTILINE)
# Ukrainian і for an о or е of a final closed syllable (Харків: Харьков, Львів, Ріг: Рог,
# the genitive plural дронів: дронов), read as о before the і -> и fold; not before н or
# м, where a name's і is a Russian и (Путін, Калугін, Кім).
_UK_IKAVISM = re.compile("і(?=[вгкх]$)", re.MULTILINE)
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
        # Ukrainian places whose Russian names differ beyond transliteration. A Russian
        # name may also be a common word (славянский: Slavic); not_near tells them apart.
        "sloviansk slavyansk slaviansk славянск",
        "kostiantynivka konstantinovka костянтинівка константиновка",
        "sievierodonetsk severodonetsk сєвєродонецьк северодонецк",
        "vovchansk volchansk вовчанськ волчанск",
        "chernihiv chernigov чернігів чернигов",
        "rivne rovno рівне ровно",
        "ternopil ternopol тернопіль тернополь",
        "vinnytsia vinnitsa вінниця винница",
        "uzhhorod uzhgorod ужгород",
        "avdiivka avdeyevka авдіївка авдеевка",
        "vuhledar ugledar вугледар угледар",
        "horlivka gorlovka горлівка горловка",
        "enerhodar energodar енергодар энергодар",
        "siversk seversk сіверськ северск",
        "kropyvnytskyi kirovohrad kirovograd кропивницький кировоград",
        "bakhmut artemivsk artyomovsk бахмут артемовск",
    )
)
ALIAS_OF = {word: group for group in ALIASES for word in group}


def skeleton_many(words: list[str]) -> list[str]:
    """Latin spelling skeletons: y/j->i, z->s, w->v, ł->l, kh->h, no doubled letters."""
    if not words:
        return []
    # One pass over the joined words: no step of the skeleton can cross a newline.
    return _skeleton("\n".join(words)).split("\n")


def _skeleton_py(text: str) -> str:
    """The skeleton of a text (of newline-joined words), step by step."""
    return _DOUBLED.sub("", text.replace("kh", "h").translate(_LAT_SKELETON))


try:  # the same in one pass of C, when the extension is built
    from alerts.matching._wordkeys import skeleton as _skeleton  # type: ignore[import-not-found]
except ImportError:
    _skeleton = _skeleton_py


def latin_keys(
    words: list[str], language: str = "en", roots: list[str | None] | None = None
) -> list[str]:
    """Keys of Latin words in one language (a stem code of ``languages``).

    ``roots``: each word's ``gender.feminine`` root, when the caller has them already.
    """
    roots = in_language(words, feminine_many(words) if roots is None else roots, language)
    if not any(roots):
        return skeleton_many(_stems(words, language))
    plain = [w for w, r in zip(words, roots, strict=True) if r is None]
    keyed = dict(zip(plain, skeleton_many(_stems(plain, language)), strict=True))
    fem = [(w, r) for w, r in zip(words, roots, strict=True) if r is not None]
    fem_keys = skeleton_many([r for _, r in fem])
    keyed.update((w, k + FEMININE) for (w, _), k in zip(fem, fem_keys, strict=True))
    return [keyed[w] for w in words]


def _stems(words: list[str], language: str) -> list[str]:
    if "ł" in "".join(words):  # one C scan rather than a test per word
        words = [w.replace("ł", "l") for w in words]
    stems = stem_words(language, words)
    if stems and min(map(len, stems)) < _MIN_STEM:  # most batches have no short stem
        for i, stem in enumerate(stems):  # a stem shorter than three letters keeps the word
            if len(stem) < _MIN_STEM:
                stems[i] = words[i]
    return stems


def cyrillic_keys(words: list[str]) -> list[str]:
    """Keys of Cyrillic words: folded Russian stems, feminine surname forms apart."""
    if not words:
        return []
    # Ukrainian -ої folds to -ои, an ending the Russian stemmer does not know: make it -ой.
    joined = _UK_IKAVISM.sub("о", _UK_OI.sub("ой", "\n".join(words)))
    folded = _fold_many(joined).split("\n")
    stems = _RU(folded)
    out = [s if len(s) >= _MIN_STEM else f for s, f in zip(stems, folded, strict=True)]
    for i, root in enumerate(feminine_many(words)):
        if root is not None:
            out[i] = _fold_many(root) + FEMININE
    return out


def _keyed(words: Iterable[str], language: str = "en") -> dict[str, str]:
    """Keys of distinct words, by word; each step runs once over the whole batch."""
    lat, cyr, other = by_script(list(words))
    out = dict(zip(other, other, strict=True))
    out.update(zip(lat, latin_keys(lat, language), strict=True))
    out.update(zip(cyr, cyrillic_keys(cyr), strict=True))
    return out


def _fold_many(text: str) -> str:
    """``translate(_CYR_FOLD)`` of a long text: six C-speed replaces beat a dict per char."""
    for letter, folded in _CYR_FOLD.items():
        text = text.replace(chr(letter), folded or "")
    return text


def word_keys(words: list[str], language: str | None = None) -> list[str]:
    """Keys of many words of an item in ``language`` at once (see the module docstring)."""
    language = stem_language(language)
    if "".join(words).isascii():  # most batches: every word Latin, keyed in place
        return latin_keys(words, language)
    return list(map(_keyed(words, language).__getitem__, words))


def word_key(word: str, language: str | None = None) -> str:
    """The one key of a normalised word of an item (see ``word_keys``)."""
    return word_keys([word], language)[0]


def latin_key(word: str, language: str | None = None) -> str:
    """Key of a Latin word (see ``word_keys``)."""
    return latin_keys([word], stem_language(language))[0]


def cyrillic_key(word: str) -> str:
    """Key of a Cyrillic word (see ``word_keys``)."""
    return cyrillic_keys([word])[0]


def spellings(word: str) -> frozenset[str]:
    """A term word and its aliases, transliterated into the other script."""
    out = set(ALIAS_OF.get(word, {word}))
    for spelling in list(out):
        kind = script(spelling)
        if kind == "lat":
            out |= to_cyrillic(spelling)
        elif kind == "cyr":
            out |= to_latin(spelling)
    return frozenset(out)


def spellings_many(words: list[str]) -> list[frozenset[str]]:
    """``spellings`` of many words, transliterated in batches."""
    plain = [w for w in words if w not in ALIAS_OF]
    lat, cyr, other = by_script(plain)
    forms = {w: frozenset({w}) for w in other}
    forms.update((w, frozenset({w, *c})) for w, c in zip(lat, to_cyrillic_many(lat), strict=True))
    forms.update((w, frozenset({w, *c})) for w, c in zip(cyr, to_latin_many(cyr), strict=True))
    return [forms[w] if w in forms else spellings(w) for w in words]


def term_key_tuples(words: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The keys of many term words that hold in every language, sorted."""
    from alerts.matching.termkeys import term_keys  # termkeys builds on this module

    return {word: keys.every for word, keys in term_keys(words).items()}
