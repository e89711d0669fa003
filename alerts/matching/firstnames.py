"""Feminine first names in Russian and Ukrainian, from pymorphy3's dictionaries.

A -ов surname's -ова is both the woman (Анна Буданова) and the man's genitive (слова
Кирилла Буданова, жена Буданова): the word before it tells them apart when it is a woman's
first name in the nominative. pymorphy3 (OpenCorpora's Russian dictionary, and its
Ukrainian one) tags first names with their gender; a common noun (жена, служба) is no
name. The analysers load on the first question (about 0.5 s and 45 MiB) and each word is
asked once.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

_LANGUAGES = ("ru", "uk")


@cache
def _analysers() -> tuple[Any, ...]:
    """The Russian and Ukrainian analysers, loaded once (no download: the dictionaries
    are packages)."""
    import pymorphy3  # type: ignore[import-untyped]  # heavy: only when first asked

    return tuple(pymorphy3.MorphAnalyzer(lang=lang) for lang in _LANGUAGES)


@lru_cache(maxsize=8192)
def feminine_first_name(word: str) -> bool:
    """Whether a word may be a woman's first name in the nominative (Анна, Маріанна; not
    Кирилла, a man's genitive, nor жена)."""
    low = word.lower()
    for analyser in _analysers():
        for parse in analyser.parse(low):
            tag = parse.tag
            if "Name" in tag and tag.gender == "femn" and tag.case == "nomn":
                return True
    return False
