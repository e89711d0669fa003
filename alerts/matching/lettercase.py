"""Letter case of a term's occurrences: a name counts where the item writes it as a name.

The engine folds case to find a term; these rules then read how the item wrote each
occurrence (``letter_case: names``, the default; ``any`` turns them off):

- A term written with a capital (a name: Riga, Ufa) does not count where the item writes it
  in lower case (Italian riga "line", Polish ufa "trusts"), except as a place adjective,
  which the Slavic languages write in lower case (briański, калужский), in another script
  than the term's (a name that became a noun: шахеды; not an adjective: навальний вітер),
  or in a field written without any capital. Nor where a hyphen joins it to a capitalised
  adjective: that is another place (Белгород-Днестровский). Nor, for a name Slavic
  spellings never look like, where the item doubles a consonant the name writes single
  (Whittaker is not Whitaker).
- In Russian, Ukrainian and Polish items, a town whose adjective is also another word's
  (``adjectives``: Покровский собор) and a -ov surname's -ова after a woman's first name
  (``gender.woman``: Анна Буданова) do not count.
- A one-word term written in lower case (a topic: дрон) does not count where a language that
  capitalises only names and a sentence's first word writes it with a capital inside a
  sentence (the deputy Дронов). German (every noun) and English (Title Case headlines) are
  left alone, and so are a sentence's first word, capitals throughout and Title Case fields.
"""

from __future__ import annotations

import re
from functools import lru_cache

from alerts.matching import adjectives
from alerts.matching.foreign import slavic
from alerts.matching.gender import ov_surname, woman
from alerts.matching.text import words
from alerts.rules.tree import Term

# TOWN: a name whose adjective is also another word's (Pokrovsk: Покровский собор), read as
# NAME and by ``adjectives``; SURNAME: a -ov surname (Budanov), read as NAME and by
# ``gender.woman`` (Анна Буданова). Both only in the NAMES_ONLY languages, as COMMON
# (guard's views); elsewhere they are plain names (``name_rule``).
NONE, NAME, COMMON, TOWN, SURNAME = 0, 1, 2, 3, 4
# Languages that write only names (and a sentence's first word) with a capital, headlines too.
NAMES_ONLY = frozenset({
    "ru", "uk", "be", "bg", "pl", "cs", "sk", "sl", "hr", "sr", "fr", "it", "es", "pt", "ca",
    "nl", "sv", "da", "no", "nb", "nn", "fi", "et", "lv", "lt", "ro", "hu",
})  # fmt: skip
_UNCASED_FIELDS = frozenset({"url", "source"})  # written in lower case whatever they name
# A place adjective, written in lower case: briański, brjanské, калужский, ризький.
_PLACE_ADJECTIVE = re.compile(r"(?:sk|ck|zk|ск|цк|зк|ськ|зьк|цьк)\w{0,5}$")
# A Cyrillic adjective ending: a name written in Latin (Navalny, Tolstoy) found in lower
# case in Cyrillic with it is the common adjective (навальний вітер, толстой книгой), where
# a name turned noun (шахеды, шахедів) is not.
_COMMON_ADJECTIVE = re.compile("(?:ий|ый|ій|ая|яя|ое|ее|ые|ие|ого|его|ому|ему|ыми|ими|ої|ою|ую)$")
# A capitalised adjective joined by a hyphen: the name is part of another place's name.
_JOINED_ADJECTIVE = re.compile(
    r"[-‐‑]\s?([A-ZÀ-ÞĀ-ſА-ЯЁІЇЄҐ]\w*(?:sk|ck|zk|ск|цк|зк|ськ|зьк|цьк)"
    r"(?:ий|ій|ый|ого|ому|им|ім|ом|ая|ой|ую|ою|ое|ие|і|их|іх|ими|ої|"
    r"y|yj|yi|iy|ij|yy|ii|i|iego|iemu|ý|ého|ému|ým|á|é|ou|ej|ych))\b"
)
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_OPENERS = " \t\r\n«\"“„'‘‚(["
_SENTENCE_ENDS = frozenset(".!?:;…—–-|•")
_WORD = re.compile(r"\b\w{4,}")
_MAX_ENDING = 4  # letters an inflection adds to a name (Whitakerille)
_DOUBLE = re.compile(r"([bcdfghjklmnpqrstvwxz])\1")
_TITLE_SHARE = 0.6  # of a field's longer words capitalised: a Title Case headline


def mode(term: Term) -> int:
    """The case rule a term's occurrences follow (NONE, NAME or COMMON)."""
    if term.letter_case != "names" or term.kind == "regex":
        return NONE
    text = term.text
    first = text[:1]
    if not first.isalpha():  # rare: a term that starts with a digit or a mark
        first = next((c for c in text if c.isalpha()), "")
    if first.isupper():
        if adjectives.town(text):
            return TOWN
        slavic_ov = ov_surname(text.strip()) and slavic(text.strip().lower())
        return SURNAME if slavic_ov else NAME  # a Slavic-looking one only: Budanov, not Whitlin
    if first and text.islower() and " " not in text.strip():
        return COMMON
    return NONE


def applies(case: int, language: str | None) -> bool:
    """Whether an item in ``language`` can lose occurrences to the rule (cheap: per view)."""
    if case == COMMON:
        return (language or "").split("-")[0].lower() in NAMES_ONLY
    return case == NAME


def name_rule(case: int) -> int:
    """The rule a term's mode keeps in a language outside ``NAMES_ONLY`` (English, German):
    a town or -ov surname (TOWN, SURNAME) is still a name there, a topic has none."""
    return NAME if case in (TOWN, SURNAME) else NONE


def counts(case: int, field_name: str, text: str, start: int, end: int, written: str) -> bool:
    """Whether an occurrence at ``text[start:end]`` of a field counts under the rule."""
    if field_name in _UNCASED_FIELDS or start >= end:
        return True
    found = text[start:end]
    first = found[0]
    if case == TOWN:
        if adjectives.other_sense(text, start, end):
            return False
        case = NAME
    elif case == SURNAME:
        if woman(text, start, end):
            return False
        case = NAME
    if case == NAME:
        if first.isupper():
            return _JOINED_ADJECTIVE.match(text, end) is None
        low = found.lower()
        return (
            (script(found) != written and _COMMON_ADJECTIVE.search(low) is None)
            or _PLACE_ADJECTIVE.search(low) is not None
            or text.islower()
        )
    if not first.isupper() or found.isupper() or len(found) == 1:
        return True
    return _starts_sentence(text, start) or _title_case(text)


def doubles_of(term: Term) -> str:
    """A one-word Latin name that Slavic spellings never look like (Whitaker), in lower
    case, for ``doubled``; "" for any other term."""
    if " " in term.text.strip() or script(term.text) != "lat" or mode(term) != NAME:
        return ""
    found = words(term.text)
    if len(found) != 1:
        return ""
    return "" if slavic(found[0]) else found[0]


def doubled(name: str, found: str) -> bool:
    """Whether an occurrence doubles a consonant the name writes single: another name
    (Whittaker is not Whitaker, Phillips not Philips). Slavic names are left alone, as
    transliterations double their letters at will."""
    if len(found) > len(name) + _MAX_ENDING:  # a compound's other part is its own business
        return False
    return bool(set(_DOUBLE.findall(found.lower())) - set(_DOUBLE.findall(name)))


def script(text: str) -> str:
    """The script a term or an occurrence is written in: "cyr" or "lat"."""
    if text.isascii():  # most terms and occurrences: no regex search
        return "lat"
    return "cyr" if _CYRILLIC.search(text) else "lat"


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip(_OPENERS)
    return not before or before[-1] in _SENTENCE_ENDS or "\n" in text[len(before) : start]


@lru_cache(maxsize=4096)
def _title_case(text: str) -> bool:
    """Whether a field is written in Title Case (most of its longer words capitalised)."""
    long = _WORD.findall(text)
    capitalised = sum(1 for w in long if w[0].isupper())
    return len(long) >= 3 and capitalised >= _TITLE_SHARE * len(long)
