"""What each item language gets: its Snowball stemmer (C, through PyStemmer) and its quirks.

An item's Latin-script words are stemmed by the stemmer of the item's language (English
when the language is unknown or has no stemmer); Cyrillic words always by the Russian one,
Ukrainian letters folded first. Slovak uses the Czech stemmer. Normalised text has lost
its diacritics, which the Czech stemmer reads, so the adjective endings it no longer
recognises (-eho, -emu, -ych, -ymi, -ym, Slovak -om, -och, -ej) are cut before it runs,
the plural ones (-ách, -ám, -ím, -ům) get their accent back; Polish -ów is cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import Stemmer  # type: ignore[import-not-found]

DEFAULT = "en"
# Item language -> Snowball algorithm, for the languages whose Latin words we stem.
ALGORITHMS = {
    "en": "english",
    "de": "german",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "nb": "norwegian",
    "nn": "norwegian",
    "fi": "finnish",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "pl": "polish",
    "cs": "czech",
    "sk": "czech",
}
# One code per distinct stemmer (nb and nn share Norwegian's): the term side keys these.
LANGUAGES: tuple[str, ...] = tuple(c for c in ALGORITHMS if c not in ("nb", "nn"))
# Languages that write compounds closed up (Raketenangriff, ohjusisku).
COMPOUNDING = frozenset({"de", "nl", "sv", "da", "no", "nb", "nn", "fi"})


def _ending(ends: str, after: int) -> str:
    """A regex for a line that ends in one of ``ends`` after at least ``after`` letters.

    Each ending comes first and the letters before it are checked behind it: the regex
    engine then skips to the endings' first letters instead of trying the lookbehind at
    every character of the joined words (tests/matching/test_cold_paths.py holds these to
    the lookbehind-first forms).
    """
    return "|".join(f"{end}(?<=[^\n]{{{after + len(end)}}})$" for end in ends.split())


# Endings cut before stemming, on newline-joined words, keeping at least five letters:
# Czech and Slovak adjective endings the stemmer reads only with their diacritics, and
# Polish -ów (folded to -ow), no ending the Polish stemmer knows without its accent.
_CZECH = re.compile(_ending("eho emu ych ymi ym", 5) + "|" + _ending("om och ej", 4), re.M)
_CUTS = {"cs": _CZECH, "sk": _CZECH, "pl": re.compile(_ending("ow", 3), re.MULTILINE)}
# Czech and Slovak plural endings the stemmer knows only with their accent (sankcím,
# raketách, dronům, sankcích): given their accent back, after at least four letters.
_CZECH_ACCENT = re.compile(_ending("ach ich am im um", 4), re.MULTILINE)
_ACCENTED = {"ach": "ách", "ich": "ích", "am": "ám", "im": "ím", "um": "ům"}
_STEMMERS: dict[str, Callable[[list[str]], list[str]]] = {}
# Finnish consonant gradation at the end of a stem, weak -> strong (tauo -> tauko is
# written tauo: the k that comes and goes is left out; soda -> sota, Helsing -> Helsink).
# One substitution per grade, each with a plain replacement (no Python call a match) and
# starting at its own letter (the regex engine skips to it rather than trying a lookbehind
# at every character). Each needs nothing but vowels after it, so a stem has at most one,
# and none of them makes another: d -> t, then ng -> nk, then the k left out.
_GRADES = (
    (re.compile("d(?<=[aeiouy]d)(?=[aeiouy]{0,2}$)", re.M), "t"),
    (re.compile("ng(?=[aeiouy]{0,2}$)", re.M), "nk"),
    (re.compile("k(?<=[aeiouy]k)(?=[aeiouy]{1,2}$)", re.M), ""),
)
_MIN_DEFINITE = 6  # a Swedish stem in -an this long is taken for an -a noun's definite form


def stem_language(language: str | None) -> str:
    """The code whose stemmer keys an item's Latin words (English when it has none)."""
    if not language:
        return DEFAULT
    code = language.split("-")[0].lower()
    if code in ("nb", "nn"):
        return "no"
    return code if code in ALGORITHMS else DEFAULT


def snowball(algorithm: str) -> Callable[[list[str]], list[str]]:
    """A Snowball algorithm's stems of a list of words: PyStemmer's stemmer called from C
    in one call per list (``_wordkeys.Snowball``) when the extension is built and finds
    it, else PyStemmer's ``stemWords`` (the same stems, a Python call per word). The latter
    too where PyStemmer's module has no file path (``__file__`` None in a frozen install:
    ``Snowball``'s path argument raises TypeError), or matching would not load at all."""
    try:
        from alerts.matching._wordkeys import Snowball  # type: ignore[import-not-found]

        return Snowball(Stemmer.__file__, algorithm).stem_words  # type: ignore[no-any-return]
    except (ImportError, TypeError):
        # No cache: the word tables keep what is worth keeping, and the batch runs faster.
        return Stemmer.Stemmer(algorithm, 0).stemWords  # type: ignore[no-any-return]


def stem_words(language: str, words: list[str]) -> list[str]:
    """Snowball stems of many normalised Latin words in one language (a stem code)."""
    stem = _STEMMERS.get(language)
    if stem is None:
        stem = _STEMMERS[language] = snowball(ALGORITHMS[language])
    cut = _CUTS.get(language)
    if language == "en":
        return _keep_ske(words, stem(words))
    if language in ("fi", "sv"):
        after = _finnish if language == "fi" else _swedish
        return after(words, stem(words), stem)
    if cut is None or not words:
        return stem(words)  # type: ignore[no-any-return]
    words = cut.sub("", "\n".join(words)).split("\n")
    if language not in ("cs", "sk"):
        return stem(words)  # type: ignore[no-any-return]
    joined = _CZECH_ACCENT.sub(lambda m: _ACCENTED[m[0]], "\n".join(words))
    return _keep_in(words, stem(joined.split("\n")))


def _finnish(
    words: list[str], stems: list[str], stem: Callable[[list[str]], list[str]]
) -> list[str]:
    """Finnish stems with the clitic -ko kept and the grade of their last consonant made one.

    Snowball cuts -ko as the question clitic (tulitauko -> tulitau) and keeps consonant
    gradation (tulitauon -> tulitauo, tulitaukoa -> tulitauko); item and term words both
    come through here, so every grade of a word gets one stem.
    """
    out = [w if w.endswith("ko") and s == w[:-2] else s for w, s in zip(words, stems, strict=True)]
    if not out:
        return out
    joined = "\n".join(out)
    for grade, strong in _GRADES:
        joined = grade.sub(strong, joined)
    return joined.split("\n")


def _swedish(
    words: list[str], stems: list[str], stem: Callable[[list[str]], list[str]]
) -> list[str]:
    """Swedish stems with a definite -n after -a cut (vapenvilan -> vapenvila -> vapenvil)."""
    definite = [i for i, s in enumerate(stems) if len(s) >= _MIN_DEFINITE and s.endswith("an")]
    if definite:
        again = stem([stems[i][:-1] for i in definite])
        for i, s in zip(definite, again, strict=True):
            stems[i] = s
    return stems


def _keep_ske(words: list[str], stems: list[str]) -> list[str]:
    """English stems, a word in -ske kept whole.

    No English word ends in -ske: such a word is a transliterated Slavic place (Pokrovske,
    a village, is not Pokrovsk), and the stemmer's cut of its -e would make it the other.
    """
    if not any(map(_ends_ske, words)):
        return stems
    return [w if w.endswith("ske") else s for w, s in zip(words, stems, strict=True)]


def _ends_ske(word: str) -> bool:
    return word.endswith("ske")


def _keep_in(words: list[str], stems: list[str]) -> list[str]:
    """Czech stems with the -in the stemmer took for a possessive put back.

    Snowball reads -in as a possessive suffix (matčin), so a Russian surname Kalugin (and
    Putin, Ukrajina) lost it and met Kaluga; a name's -in is part of it.
    """
    return [s + "in" if w.startswith(s + "in") else s for w, s in zip(words, stems, strict=True)]
