"""How each language respells a name that reached English from outside Cyrillic.

A Persian or Arabic name comes to English as Araghchi or Khamenei; German writes Araghtschi
and Chamenei, Spanish Araqchi and Jamenei, Polish Arakczi, Czech and Slovak Arakčí and
Chameneí (Ukrainian Аракчі comes from ``translit``). Each language rewrites the English
digraphs (kh, gh, q, ch, sh, zh, j) by its own rules, and the Persian and Arabic q and gh
are also read as k or g. So a name written once in English gets, for each language, the
spellings those rules give, keyed by that language's stemmer only.

A name that is not Slavic is never respelled through Cyrillic for a Latin-script language:
German keeps Waltz as Waltz (Walz is another man), Czech keeps Whitaker. ``slavic`` tells
such a name by the letters and digraphs English spellings of Slavic names never use.
"""

from __future__ import annotations

import itertools
import re

_MAX_SPELLINGS = 12  # per language: the rules' first choices come first
# Per language, each English digraph (or letter) and the spellings that language gives it,
# diacritics folded (Czech č is c). A digraph missing from a language stays as it is.
# English ou and th (Rouhani, Houthi) are u and t in most languages (Ruhani, Huthi).
RULES: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"gh": ("gh", "q"), "q": ("q", "gh")},
    "de": {"kh": ("ch", "kh"), "ch": ("tsch",), "sh": ("sch",), "zh": ("sch",), "j": ("dsch", "j"),
           "q": ("k", "gh"), "gh": ("gh", "g"), "ou": ("u",), "th": ("t", "th")},
    "nl": {"kh": ("ch", "kh"), "ch": ("tsj", "ch"), "sh": ("sj", "sh"), "zh": ("zj",),
           "j": ("dj", "j"), "q": ("k", "gh"), "ou": ("oe",)},
    "sv": {"kh": ("kh", "ch"), "ch": ("tj", "ch"), "sh": ("sj", "sh"), "j": ("dj", "j"),
           "ou": ("u",)},
    "fi": {"kh": ("h", "kh"), "ch": ("ts", "tsh"), "sh": ("s", "sh"), "zh": ("z",),
           "j": ("dz", "j"), "q": ("k", "q"), "gh": ("g", "gh"), "ou": ("u",), "th": ("t", "th")},
    "fr": {"ch": ("tch", "ch"), "sh": ("ch",), "j": ("dj", "j"), "zh": ("j",), "u": ("ou", "u")},
    "es": {"kh": ("j", "kh"), "j": ("y", "j"), "gh": ("q", "g", "gh"), "sh": ("sh", "s"),
           "ou": ("u",), "th": ("t", "th")},
    "it": {"kh": ("kh", "k"), "j": ("j", "g"), "ou": ("u",), "th": ("t", "th")},
    "pl": {"kh": ("ch",), "ch": ("cz",), "sh": ("sz",), "zh": ("z",), "j": ("dz", "j"),
           "q": ("k",), "gh": ("k", "g", "gh"), "ou": ("u",), "th": ("t", "th"),
           "ei": ("ei", "ej")},
    "cs": {"kh": ("ch",), "ch": ("c",), "sh": ("s",), "zh": ("z",), "j": ("dz", "j"),
           "q": ("k",), "gh": ("k", "g", "gh"), "ou": ("u",), "th": ("t", "th"),
           "ei": ("ei", "ej")},
}  # fmt: skip
RULES.update(da=RULES["sv"], no=RULES["sv"], pt=RULES["es"], sk=RULES["cs"])
# A language's spellings also count in the languages a short text of it is taken for
# (bench/README.md, langid: es and it on name-heavy headlines, cs and sk).
READERS: dict[str, tuple[str, ...]] = {
    "es": ("es", "it", "pt"),
    "it": ("it", "es"),
    "pt": ("pt", "es"),
    "cs": ("cs", "sk"),
    "sk": ("sk", "cs"),
    "sv": ("sv", "da", "no"),
    "da": ("da", "no", "sv"),
    "no": ("no", "da", "sv"),
}
_UNITS = {
    lang: re.compile("|".join(sorted(rules, key=len, reverse=True)))
    for lang, rules in RULES.items()
}
# Letters and digraphs no English spelling of a Slavic name uses (Witkoff, Waltz, Whitaker,
# Wadephul, Araghchi, Nawrocki): such a name is not respelled through Cyrillic.
_NOT_SLAVIC = re.compile(r"w|q|x|c(?!h)|th|ph|gh|ee|oo|([bcdfgklmnprt])\1")


def slavic(word: str) -> bool:
    """Whether a Latin name may be the English spelling of a Slavic (Cyrillic) name."""
    return _NOT_SLAVIC.search(word) is None


def respellings(word: str, language: str) -> list[str]:
    """The spellings ``language`` gives an English-spelled name, other than the name itself."""
    rules = RULES.get(language)
    if rules is None:
        return []
    units = _UNITS[language]
    parts: list[tuple[str, ...]] = []
    at = 0
    for m in units.finditer(word):
        parts += [(word[at : m.start()],), rules[m[0]]]
        at = m.end()
    if not parts:
        return []
    parts.append((word[at:],))
    choices = itertools.islice(itertools.product(*parts), _MAX_SPELLINGS + 1)
    return [s for s in ("".join(c) for c in choices) if s != word][:_MAX_SPELLINGS]
