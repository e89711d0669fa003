"""Place adjectives that are also another word's: told apart by the word they qualify.

A few towns are named after a word whose adjective they share: Покровск and Покров (the
feast of the Intercession: Покровский собор, a street, the surname Покровский), Славянск
and the Slavs (славянская культура; Ukrainian слов'янський the same), Северск and the
river Северский Донец. Spelling cannot tell those adjectives apart, nor can a dictionary
(pymorphy3 tags брянский and славянский alike). Where a watch names such a town
(``town``), an adjective form of it counts only beside a word that names a place or a
front (район, область, направление, напрямок, громада, ТЭС...): "на покровском
направлении" reports the town, "Покровский собор", "славянской культуры" and "певец
Славянский" do not. The town's own cases (Покровска, под Славянском) count as before.
"""

from __future__ import annotations

import re

# Term words naming such a town, as a watch writes them (lower case, apostrophes folded).
_TOWNS = re.compile(
    r"(?:pokrovsk|sloviansk|slovyansk|slavyansk|slaviansk|siversk|seversk"
    r"|покровск|покровськ|славянск|словянськ|северск|сіверськ)"
)
_FOLD = str.maketrans({"'": None, "’": None, "ʼ": None, "`": None, "ł": "l", "ń": "n"})
# Their Cyrillic stems with an ending: the town's cases or an adjective's.
_FORM = re.compile(
    r"(славянск|словянськ|покровск|покровськ|северск|сіверськ|сиверськ"
    r"|slowiansk|pokrowsk|siewiersk)(\w*)"
)
# Endings only an adjective takes, by the stem's language: Russian -ск- (-ий, -ая, ...;
# its -е is the town's locative, в Покровске), Ukrainian -ськ- (-ий, -ої, -е, -і, ...)
# and Polish -sk- (-i, -iej, -ą, ...; -iem is the town's: pod Słowiańskiem).
_ADJECTIVE = {
    "ск": frozenset({"ий", "ый", "ая", "ое", "ие", "ые", "ого", "ой", "ую", "их", "ых", "им",
                     "ым", "ими", "ыми", "ому"}),
    "ськ": frozenset({"ий", "ої", "ого", "ому", "ій", "і", "е", "ою", "ім", "их", "им", "ими"}),
    "sk": frozenset({"i", "ie", "iego", "iej", "im", "ich", "ą", "imi", "iemu"}),
}  # fmt: skip
# Endings of the town's cases that an adjective shares, with the endings of a noun that
# the adjective would agree with: Russian -ом (под Славянском; в Покровском соборе),
# Ukrainian -а (жителі Слов'янська; Слов'янська мова), -у (у Слов'янську; слов'янську мову).
_SHARED = {
    "ом": re.compile(r"\w{3,}[еіи]$"),
    "а": re.compile(r"\w{2,}(?<!л)[ая]$"),
    "у": re.compile(r"\w{2,}(?<!л)[ую]$"),
}
# Stems of the words that make an adjective the town's, after it or before it (Polish
# kierunek pokrowski): a district, a front, its plant.
_PLACE_NOUNS = re.compile(
    r"(?:район|област|направлен|напрям|громад|агломерац|округ|горсовет|міськ|городск"
    r"|ділянк|участк|фронт|тэс|тес|котл|выступ|виступ|плацдарм|угрупован|группировк"
    r"|kierun|obwod|obwód|rejon|gmin|front|aglomerac|elektrowni)"
)
_NEXT_WORD = re.compile(r"[\s,«»\"“”„]*(\w+)")
_LAST_WORD = re.compile(r"(\w+)[\s«»\"“”„]*$")


def town(term_text: str) -> bool:
    """Whether a one-word term names a town whose adjective is also another word's."""
    return _TOWNS.fullmatch(term_text.strip().lower().translate(_FOLD)) is not None


def other_sense(text: str, start: int, end: int) -> bool:
    """Whether an occurrence of such a town is an adjective of the other word: an
    adjective form that does not qualify a place noun (see the module docstring)."""
    found = text[start:end]
    m = _FORM.fullmatch(found.lower().translate(_FOLD))
    if m is None:
        return False
    after = _NEXT_WORD.match(text, end)
    following = after[1].lower() if after else ""
    before = _LAST_WORD.search(text, max(0, start - 40), start)
    if _PLACE_NOUNS.match(following) or (before and _PLACE_NOUNS.match(before[1].lower())):
        return False
    stem, ending = m[1], m[2]
    only = _ADJECTIVE["sk" if stem.isascii() else "ськ" if stem.endswith("ськ") else "ск"]
    if found[0].islower() or ending in only:  # the town is written with a capital
        return ending != ""
    agrees = _SHARED.get(ending)  # a past verb in -ла, -лу is no noun: до Слов'янська прибула
    if agrees is None or after is None:
        return False
    return after[1].islower() and agrees.match(following) is not None
