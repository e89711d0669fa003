"""Surname gender: the feminine form of a Slavic -sky surname is another person.

An item word with a feminine adjective ending after -sk-/-ck-/-zk- (Zelenska, Nawrocką,
Зеленської, Калужская) is keyed as its root with ``FEMININE`` after it, never as the
masculine stem. A term keys its own spellings the same way, so "Zelenska" finds the
feminine forms only and "Zelensky" the masculine ones. A term that is no masculine
surname (Bryansk, Kaluga's adjective) also accepts the feminine key of each of its keys
ending in -sk/-ck (Brjanská oblast, Калужская область): see ``twins``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

FEMININE = "~f"  # no normalised word holds "~": a feminine key never equals a word's key
# Latin: -ska (cs, pl, en), -skaya/-skaja, Polish -skiej/-ską, Czech -skou/-ské, Slovak
# -skej/-skú; and -lna, -lnaya (Navalnaya, Nawalna), the feminine of -lny surnames.
_LATIN = re.compile(r"(?:(?<=[scz]k)(?:a|aya|aja|iej|ej|oj|oi|ou|e|u)|(?<=ln)(?:a|aya|aja|ej|ou))$")
# Cyrillic, before Ukrainian letters are folded (-ській is feminine, -ский is not).
_CYRILLIC = re.compile(r"(?:(?<=[сцзь]к)(?:ая|ой|ую|ою|а|ої|ій|у)|(?<=льн)(?:ая|ую|ою|а|ої|ій|у))$")
_MASCULINE = re.compile(
    r"(?:(?:[scz]k|ln)(?:y|i|yi|iy|ij|yj|yy|ii)|(?:[сцз]ь?к|льн)(?:ий|ій|ый|ой))$"
)
_ROOT_END = ("sk", "ck", "zk", "ln", "ск", "цк", "зк", "лн")


def _lines(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The same ending, as whole lines of newline-joined words."""
    return re.compile("^[^\n]*" + pattern.pattern, re.MULTILINE)


_LATIN_LINES, _CYRILLIC_LINES, _MASCULINE_LINES = map(_lines, (_LATIN, _CYRILLIC, _MASCULINE))


def feminine_many(words: list[str]) -> list[str | None]:
    """``feminine`` of many words: one scan of the joined words finds the few that are."""
    joined = "\n".join(words)
    hits = set(_LATIN_LINES.findall(joined))
    if not joined.isascii():
        hits.update(_CYRILLIC_LINES.findall(joined))
    if not hits:
        return [None] * len(words)
    return [feminine(w) if w in hits else None for w in words]


def masculine_many(words: list[str]) -> set[str]:
    """The words among many that look like masculine -sky surnames."""
    return set(_MASCULINE_LINES.findall("\n".join(words)))


def feminine(word: str) -> str | None:
    """The root of a word with a feminine surname or adjective ending (None otherwise)."""
    m = _LATIN.search(word) if word.isascii() else _CYRILLIC.search(word) or _LATIN.search(word)
    if m is None or m.start() < 3:
        return None
    return word[: m.start()]


def masculine_surname(word: str) -> bool:
    """Whether a term word looks like a masculine -sky surname (Zelensky, Nawrocki)."""
    return _MASCULINE.search(word) is not None


def twin_table(keys: Iterable[str]) -> dict[str, str]:
    """Each key that has a feminine twin, with it (``twins`` as a lookup table)."""
    return {key: key + FEMININE for key in keys if key.endswith(_ROOT_END)}


def twins(keys: Iterable[str]) -> set[str]:
    """The feminine keys a place or noun term also accepts (Bryansk -> Brjanská)."""
    return {key + FEMININE for key in keys if key.endswith(_ROOT_END)}


def both_genders(keys: Iterable[str]) -> tuple[str, ...]:
    """Keys for a watch that asks for both genders: each key with its other-gender twin."""
    out = set(keys)
    out |= twins(out)
    out |= {key[: -len(FEMININE)] for key in out if key.endswith(FEMININE)}
    return tuple(sorted(out))
