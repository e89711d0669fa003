"""Scripts and transliteration: which script a word is in, and its spellings in the other.

Per word (``to_latin``, ``to_cyrillic``) and, for the index build, over many words at
once: the words are joined with newlines and every step runs once over the joined text
(no step's pattern can cross a newline, so each word comes out as it would alone).
"""

from __future__ import annotations

import itertools
import re

_LATIN = re.compile("[\x00-\u024f]+")
_CYRILLIC = re.compile("[\u0400-\u04ff0-9]+")
# The same, one word per line of newline-joined words (a word never holds a newline).
_LATIN_LINE = re.compile("^[\x00-\x09\x0b-\u024f]+$", re.MULTILINE)
_CYRILLIC_LINE = re.compile("^[\u0400-\u04ff0-9]+$", re.MULTILINE)
_FINAL_Y = re.compile("(?<=.)y$", re.MULTILINE)  # "y" ending a word longer than one letter

_LATIN_LETTERS = (
    "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i yi ye g"
)
_RU_LAT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        _LATIN_LETTERS.split(),
        strict=True,
    )
)
_UK_LAT = {**_RU_LAT, "г": "h", "и": "y", "й": "i", "є": "ie", "ї": "i"}
_RU_LAT_T = str.maketrans(_RU_LAT)
_UK_LAT_T = str.maketrans(_UK_LAT)
_LAT_CYR = {
    "shch": "щ", "zh": "ж", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш",
    "yu": "ю", "ya": "я", "yo": "е", "ye": "е", "iy": "ий", "yy": "ий", "yi": "йи",
    "tz": "ц", "gh": "г", "ph": "ф",
}  # fmt: skip
# Other readings, each one more Cyrillic spelling: W as У (Уолц, Уиткофф) beside В, silent
# h and a as о after W (Вітакер, Волц), "ia" as я (Ukrainian national: Sloviansk ->
# Словянськ) beside ия, a Persian or Arabic gh or q as к (Araghchi, Araqchi -> Аракчи)
# beside г, a Polish c as ц (Nawrocki -> Навроцкий), and a first e as Russian э (Engels ->
# Энгельс) beside е.
# A Polish name (-cki, cz, sz): c is ц, cz ч, sz ш, ch х, and -cki the adjective -цкий.
_POLISH = (("szcz", "щ"), ("cz", "ч"), ("sz", "ш"), ("ch", "х"), ("c", "ц"))
_OTHER_READINGS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("w", (("wh", "у"), ("wa", "уо"), ("w", "у"))),
    ("w", (("wh", "в"), ("wa", "во"))),  # Вітакер, Волц
    ("ia", (("ia", "я"),)),
    ("gh", (("gh", "к"),)),
    ("q", (("q", "к"),)),
    ("tz", (("tz", "тц"),)),  # Ukrainian Уолтц beside Уолц
    *((needle, _POLISH) for needle in ("cki", "cz", "sz")),
)
_READING_LINE = re.compile(
    "^(?:e[^\n]*|[^\n]*iv|[^\n]*(?:" + "|".join(n for n, _ in _OTHER_READINGS) + ")[^\n]*)$",
    re.MULTILINE,
)
_FINAL_KI = re.compile("(?<=[кk])i$", re.MULTILINE)
_LAT_CYR_1 = str.maketrans("abcdefgijklmnopqrstuvwxzyhq", "абкдефгийклмнопкрстуввкзи\x00к")


def script(word: str) -> str:
    """'lat', 'cyr' or 'other' for a normalised word."""
    if word.isascii() or _LATIN.fullmatch(word):
        return "lat"
    if _CYRILLIC.fullmatch(word):
        return "cyr"
    return "other"


def by_script(words: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Latin, Cyrillic and other words (as ``script`` tells), sorted out at C speed."""
    lat = list(filter(str.isascii, words))
    rest = list(itertools.filterfalse(str.isascii, words))
    if not rest:
        return lat, [], []
    joined = "\n".join(rest)  # two regex scans instead of a regex call per word
    latin = set(_LATIN_LINE.findall(joined)).__contains__
    cyrillic = set(_CYRILLIC_LINE.findall(joined)).__contains__
    lat += filter(latin, rest)
    rest = list(itertools.filterfalse(latin, rest))
    return lat, list(filter(cyrillic, rest)), list(itertools.filterfalse(cyrillic, rest))


def to_latin(word: str) -> set[str]:
    """Latin spellings of a Cyrillic word, Russian and Ukrainian conventions."""
    return {word.translate(table).replace("-", "") for table in (_RU_LAT_T, _UK_LAT_T)}


def readings(word: str) -> list[str]:
    """The word and its other readings (W as У, "ia" as я), before transliteration."""
    out = [word]
    for needle, steps in _OTHER_READINGS:  # each reading also applies to the ones before
        for read in [w for w in out if needle in w]:
            for lat, cyr in steps:
                read = read.replace(lat, cyr)
            out.append(_FINAL_KI.sub("ий", read) if steps is _POLISH else read)
    if word[:1] == "e":
        out += ["э" + w[1:] for w in out]
    if word.endswith("iv"):  # Ukrainian -ів (Kharkiv: Харків, keyed as Харьков is)
        out += [w[:-2] + "ів" for w in out]
    return out


def to_cyrillic(word: str) -> set[str]:
    """Cyrillic spellings of a Latin word ('h' is х in Russian, г in Ukrainian)."""
    return set().union(*map(_to_cyrillic, readings(word)))


def _to_cyrillic(word: str) -> set[str]:
    for lat, cyr in _LAT_CYR.items():
        word = word.replace(lat, cyr)
    if len(word) > 1 and word.endswith("y"):
        word = word[:-1] + "ий"
    text = word.translate(_LAT_CYR_1)
    return {text.replace("\x00", "х"), text.replace("\x00", "г")}


def to_latin_many(words: list[str]) -> list[set[str]]:
    """``to_latin`` of many Cyrillic words."""
    if not words:
        return []
    joined = "\n".join(words)
    ru, uk = (joined.translate(t).replace("-", "").split("\n") for t in (_RU_LAT_T, _UK_LAT_T))
    return [{a, b} for a, b in zip(ru, uk, strict=True)]


def to_cyrillic_many(words: list[str]) -> list[set[str]]:
    """``to_cyrillic`` of many Latin words."""
    if not words:
        return []
    out = _to_cyrillic_many(words)
    # The few words with another reading (W, "ia", ...) are transliterated once more each.
    with_reading = set(_READING_LINE.findall("\n".join(words)))
    others = [(i, r) for i, w in enumerate(words) if w in with_reading for r in readings(w)[1:]]
    if others:
        for (i, _), spelled in zip(others, _to_cyrillic_many([r for _, r in others]), strict=True):
            out[i] |= spelled
    return out


def _to_cyrillic_many(words: list[str]) -> list[set[str]]:
    joined = "\n".join(words)
    for lat, cyr in _LAT_CYR.items():
        joined = joined.replace(lat, cyr)
    text = _FINAL_Y.sub("ий", joined).translate(_LAT_CYR_1)
    ru, uk = (text.replace("\x00", x).split("\n") for x in ("х", "г"))
    return [{a, b} for a, b in zip(ru, uk, strict=True)]
