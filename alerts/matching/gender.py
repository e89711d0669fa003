"""Surname gender: the feminine form of a Slavic -sky surname is another person.

An item word with a feminine adjective ending after -sk-/-ck-/-zk- (Zelenska, Nawrocką,
Зеленської, Калужская; Czech Budanovová) is keyed as its root with ``FEMININE`` after it,
never as the masculine stem. A term keys its own spellings the same way, so "Zelenska" finds the
feminine forms only and "Zelensky" the masculine ones. A term that is no masculine
surname (Bryansk, Kaluga's adjective) also accepts the feminine key of each of its keys
ending in -sk/-ck (Brjanská oblast, Калужская область): see ``twins``.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable

from alerts.matching.firstnames import feminine_first_name

FEMININE = "~f"  # no normalised word holds "~": a feminine key never equals a word's key
# Latin: -ska (cs, pl, en), -skaya/-skaja, Polish -skiej/-ską, Czech -skou/-ské, Slovak
# -skej/-skú; and -lna, -lnaya (Navalnaya, Nawalna), the feminine of -lny surnames.
# Czech and Slovak -ová of a surname in -ov (Budanovová, Budanovovou, Budanovovej): never a
# case of the man's name, whose forms end -ova, -ovi, -ovem (a surname without -ov, like
# Witkoffová, cannot be told from a case form by its letters: it is left as it is).
_LATIN = re.compile(
    r"(?:(?<=[scz]k)(?:a|aya|aja|iej|ej|oj|oi|ou|e|u)|(?<=ln)(?:a|aya|aja|ej|ou)"
    r"|(?<=ovov)(?:a|e|ou|ej|u))$"
)
# Cyrillic, before Ukrainian letters are folded (-ській is feminine, -ский is not); -ной
# of a -льный surname is the woman's (Навальной), the man's cases are -ным, -ном, -ного.
# A -ов/-ин surname's -ой, -ою, -ої, -ій are the woman's only (Будановой, Будановою,
# Буданової); its -ова, -ову are also the man's (Буданова: his genitive): left as they are.
_CYRILLIC = re.compile(
    r"(?:(?<=[сцзь]к)(?:ая|ой|ую|ою|а|ої|ій|у)|(?<=льн)(?:ая|ой|ую|ою|а|ої|ій|у)"
    r"|(?<=[ое]в|[иіы]н)(?:ой|ою|ої|ій))$"
)
_MASCULINE = re.compile(
    r"(?:(?:[scz]k|ln)(?:y|i|yi|iy|ij|yj|yy|ii)|(?:[сцз]ь?к|льн)(?:ий|ій|ый|ой))$"
)
# Cyrillic -ов/-ин roots: a noun or adjective term (основа, Украина) keeps its -ой forms,
# a -ov surname term does not (``ov_surname``, ``twins``).
_OV_ROOT_END = ("ов", "ев", "ин", "ын")
_ROOT_END = ("sk", "ck", "zk", "ln", "ск", "цк", "зк", "лн", *_OV_ROOT_END)
_OV_TWINS = tuple(end + FEMININE for end in _OV_ROOT_END)
# -ov, -ev, -in, -yn and their Cyrillic letters; a C-speed str.endswith, once per term word.
_OV_SURNAME = ("ov", "ev", "in", "yn", "ов", "ев", "ин", "ын", "ін")


def _endings(roots: str, ends: str) -> tuple[str, ...]:
    """Every root + end, for ``str.endswith``: a C-speed filter before the regexes."""
    return tuple(r + e for r in roots.split() for e in ends.split())


# The endings the regexes above look for, spelled out.
_FEMININE_ENDS = (
    _endings("sk ck zk", "a aya aja iej ej oj oi ou e u")
    + _endings("ln", "a aya aja ej ou")
    + _endings("ovov", "a e ou ej u")
    + _endings("ск цк зк ьк", "ая ой ую ою а ої ій у")
    + _endings("льн", "ая ой ую ою а ої ій у")
    + _endings("ов ев ин ін ын", "ой ою ої ій")
)
_MASCULINE_ENDS = _endings("sk ck zk ln", "y i yi iy ij yj yy ii") + _endings(
    "ск цк зк ськ цьк зьк льн", "ий ій ый ой"
)


def _by_last(ends: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Endings by their last letter: a word is held against the few ending in its own."""
    out: dict[str, tuple[str, ...]] = {}
    for end in ends:
        out[end[-1]] = (*out.get(end[-1], ()), end)
    return out


_FEMININE_BY_LAST = _by_last(_FEMININE_ENDS)
_MASCULINE_BY_LAST = _by_last(_MASCULINE_ENDS)


# The last two letters of every ending: a word whose own are none of these has none of them.
_FEMININE_TAILS = frozenset(end[-2:] for end in _FEMININE_ENDS)
_LAST_TWO = operator.itemgetter(slice(-2, None))


def feminine_many(words: list[str]) -> list[str | None]:
    """``feminine`` of many words; most are ruled out by their last two letters at C speed,
    the rest by their ending."""
    out: list[str | None] = [None] * len(words)
    tails = map(_FEMININE_TAILS.__contains__, map(_LAST_TWO, words))
    ends = _FEMININE_BY_LAST
    for i in itertools.compress(range(len(words)), tails):
        word = words[i]
        if word.endswith(ends.get(word[-1:], ())):
            out[i] = feminine(word)
    return out


# Feminine endings only Czech, Slovak and Polish inflect (-ské, -skou, -skú, -skiej): in
# another language a word in -ske is no feminine form (Pokrovske is a village, and its own).
_WEST_SLAVIC = frozenset({"cs", "sk", "pl"})
_EVERYWHERE = frozenset({"a", "aya", "aja", "oj", "oi"})


def in_language(words: list[str], roots: list[str | None], language: str) -> list[str | None]:
    """The feminine roots of Latin words that hold in an item of ``language``."""
    if language in _WEST_SLAVIC or not any(roots):  # most batches: no feminine form
        return roots
    pairs = zip(words, roots, strict=True)
    return [r if r is None or w[len(r) :] in _EVERYWHERE else None for w, r in pairs]


def masculine_many(words: list[str]) -> set[str]:
    """The words among many that look like masculine -sky surnames."""
    ends = _MASCULINE_BY_LAST
    return {w for w in words if w.endswith(ends.get(w[-1:], ())) and masculine_surname(w)}


def feminine(word: str) -> str | None:
    """The root of a word with a feminine surname or adjective ending (None otherwise)."""
    m = _LATIN.search(word) if word.isascii() else _CYRILLIC.search(word) or _LATIN.search(word)
    if m is None or m.start() < 3:
        return None
    return word[: m.start()]


def masculine_surname(word: str) -> bool:
    """Whether a term word looks like a masculine -sky surname (Zelensky, Nawrocki)."""
    return _MASCULINE.search(word) is not None


def ov_surname(word: str) -> bool:
    """Whether a term word looks like a masculine -ov, -ev or -in surname (Budanov, Путин):
    its -ой, -ою forms are a woman's (see ``twins``)."""
    return word.endswith(_OV_SURNAME)


# A -ова/-ина surname after a woman's first name (Художница Анна Буданова, Марина Буданова
# зібрала): the woman, not the man's genitive (слова Кирилла Буданова, Жена Буданова).
_BEFORE = re.compile(r"([А-ЯЁІЇЄҐ][а-яёіїєґ']+[ая])\s+$")
_OVA = re.compile(r"[А-ЯЁІЇЄҐ]\w+(?:[ое]ва|[иіы]на)")


def woman(text: str, start: int, end: int) -> bool:
    """Whether an occurrence of a -ov surname (Буданова) names a woman: a feminine first
    name stands before it (``firstnames``)."""
    if _OVA.fullmatch(text, start, end) is None:
        return False
    before = _BEFORE.search(text, max(0, start - 30), start)
    return before is not None and feminine_first_name(before[1])


def twin_table(keys: Iterable[str]) -> dict[str, str]:
    """Each key that has a feminine twin, with it (``twins`` as a lookup table)."""
    return {key: key + FEMININE for key in keys if key.endswith(_ROOT_END)}


def twins(keys: Iterable[str]) -> set[str]:
    """The feminine keys a place or noun term also accepts (Bryansk -> Brjanská)."""
    return {key + FEMININE for key in keys if key.endswith(_ROOT_END)}


def ov_twin(key: str) -> bool:
    """Whether a key is the -ов/-ин feminine twin (Будановой's): a -ov surname term does
    not take it (Budanov: not Будановой), though a place in -ov (Rostov) keeps its -sk
    twins (Ростовская)."""
    return key.endswith(_OV_TWINS)


def both_genders(keys: Iterable[str]) -> tuple[str, ...]:
    """Keys for a watch that asks for both genders: each key with its other-gender twin."""
    out = set(keys)
    out |= twins(out)
    out |= {key[: -len(FEMININE)] for key in out if key.endswith(FEMININE)}
    return tuple(sorted(out))
