"""Czech and Slovak diacritics the word keys fold away, read again on an occurrence's text.

Keys fold diacritics before stemming, so that text written without them still matches.
Where the item writes them, two readings come back (``letter_case: names``, like the case
rules, and in cs and sk items only):

- A soft consonant of the term (ř, š, č, ž) written hard in the occurrence, within the
  letters they share, is another word: declension softens a hard consonant (bratr, bratři)
  but never hardens a soft one, so příměr ("comparison") is not příměří ("ceasefire").
- A name's -ová or -ové is the feminine surname (Witkoffová, Trumpová), where the name
  itself does not end so; the possessive adjective (Witkoffova, Trumpovy) has a short
  vowel. ``surname_gender: any`` keeps them.
"""

from __future__ import annotations

import re
import unicodedata

from alerts.rules.tree import Term

LANGUAGES = frozenset({"cs", "sk"})
_SOFT = {"ř": "r", "š": "s", "č": "c", "ž": "z"}
_SOFT_LETTER = re.compile("[řščž]")
_FEMININE = ("ová", "ové")
_NOT_FEMININE = ("ov", "ova", "ove", *_FEMININE)  # a name ending so: -ovová is gender.py's
_DIACRITICS = frozenset("áéěíóúůýčďňřšťžľĺŕäô")


def profile(term: Term) -> str:
    """What the rules need of a term ("" when neither applies): a flag, "n" when its
    feminine surname is apart, then its text in lower case."""
    text = term.text.strip()
    if term.letter_case != "names" or term.kind != "word" or " " in text or not text:
        return ""
    low = text.lower()
    surname = text[0].isupper() and term.surname_gender == "same" and low.isalpha()
    surname = surname and not low.endswith(_NOT_FEMININE)
    if not surname and (low.isascii() or _SOFT_LETTER.search(low) is None):
        return ""
    return ("n" if surname else "-") + low


def applies(language: str | None) -> bool:
    """Whether the item's language writes these diacritics."""
    return (language or "").split("-")[0].lower() in LANGUAGES


def counts(profiled: str, found: str) -> bool:
    """Whether an occurrence (as the item wrote it) of a profiled term counts."""
    word = found.lower()
    if not _DIACRITICS.intersection(word):  # written without diacritics: nothing to read
        return True
    flag, term = profiled[0], profiled[1:]
    if flag == "n" and word.endswith(_FEMININE):
        return False
    for a, b in zip(term, word, strict=False):
        if a == b:
            continue
        if _SOFT.get(a) == b:
            return False
        if _plain(a) != _plain(b):
            break  # the letters they share end here
    return True


def _plain(ch: str) -> str:
    return unicodedata.normalize("NFD", ch)[0]
