"""How each language our users read spells a Cyrillic name, diacritics already folded.

French writes Тула as Toula, German Charkiw, Polish Briańsk, Czech Brjansk: a name the
user wrote once in English is respelled through its Cyrillic forms into each convention,
and each spelling is keyed by the stemmer of the languages that use it (and only those).
ISO 9 and the Ukrainian national system, with diacritics folded, serve every language
(ISO 9's û and â are written ju and ja: folded to u and a, Словянськ became Slovansk, a
Czech word for Slavic). Polish writes е after a consonant as ie (Biełgorod, Miedwiediew);
French drops a final й after и or ы (Zelenski, Dmitri, Grozny).
"""

from __future__ import annotations

import re

_BASE = dict(zip("абвгдезиклмнопрстуфыэіїґ", "abvgdeziklmnoprstufyeiig", strict=True))
_BASE.update({"ь": "", "ъ": "", "ё": "e", "є": "e"})


def _scheme(**letters: str) -> dict[str, str]:
    table = dict(_BASE)
    table.update({_CYR[name]: latin for name, latin in letters.items()})
    return table


# Keyword names for the letters that differ between schemes.
_CYR = {
    "zh": "ж", "y": "й", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш", "shch": "щ",
    "u": "у", "yu": "ю", "ya": "я", "g": "г", "e": "е", "yi": "ї", "ye": "є", "i": "і",
}  # fmt: skip
SCHEMES: dict[str, dict[str, str]] = {
    "fr": _scheme(zh="j", y="i", kh="kh", ts="ts", ch="tch", sh="ch", shch="chtch", u="ou",
                  yu="iou", ya="ia"),
    "de": _scheme(zh="sch", y="j", kh="ch", ts="z", ch="tsch", sh="sch", shch="schtsch",
                  yu="ju", ya="ja", yi="ji", ye="je") | {"в": "w", "з": "s"},
    "nl": _scheme(zh="zj", y="j", kh="ch", ts="ts", ch="tsj", sh="sj", shch="sjtsj", u="oe",
                  yu="joe", ya="ja"),
    "pl": _scheme(zh="z", y="j", kh="ch", ts="c", ch="cz", sh="sz", shch="szcz", yu="iu",
                  ya="ia") | {"в": "w"},
    "pl-h": _scheme(zh="z", y="j", kh="ch", ts="c", ch="cz", sh="sz", shch="szcz", yu="iu",
                    ya="ia", g="h") | {"в": "w"},
    "cs": _scheme(zh="z", y="j", kh="ch", ts="c", ch="c", sh="s", shch="sc", yu="ju", ya="ja"),
    "cs-h": _scheme(zh="z", y="j", kh="ch", ts="c", ch="c", sh="s", shch="sc", yu="ju",
                    ya="ja", g="h"),
    "fi": _scheme(zh="z", y="j", kh="h", ts="ts", ch="ts", sh="s", shch="sts", yu="ju",
                  ya="ja"),
    "sv": _scheme(zh="zj", y="j", kh="ch", ts="ts", ch="tj", sh="sj", shch="sjtj", yu="ju",
                  ya="ja"),
    "es": _scheme(zh="zh", y="i", kh="j", ts="ts", ch="ch", sh="sh", shch="sch", yu="iu",
                  ya="ia"),
    "it": _scheme(zh="zh", y="j", kh="ch", ts="ts", ch="c", sh="sh", shch="sc", yu="ju",
                  ya="ja"),
    "iso9": _scheme(zh="z", y="j", kh="h", ts="c", ch="c", sh="s", shch="s", yu="ju", ya="ja"),
    "ua": _scheme(zh="zh", y="i", kh="kh", ts="ts", ch="ch", sh="sh", shch="shch", yu="iu",
                  ya="ia", g="h", ye="ie"),
}  # fmt: skip
# Which item languages read each scheme's spellings ("*": every language with a stemmer).
READERS: dict[str, tuple[str, ...]] = {
    "fr": ("fr",),
    "de": ("de",),
    "nl": ("nl",),
    "pl": ("pl",),
    "pl-h": ("pl",),
    "cs": ("cs", "sk"),
    "cs-h": ("cs", "sk"),
    "fi": ("fi",),
    "sv": ("sv", "da", "no"),
    "es": ("es", "pt", "it"),  # and the languages a short Spanish text is taken for
    "it": ("it", "es"),
    "iso9": ("*",),
    "ua": ("*",),
}
_TABLES = {name: str.maketrans(table) for name, table in SCHEMES.items()}


# Exonyms no respelling reaches, by language (normalised: no diacritics), for a name of an
# alias group of variants.ALIASES (or a place of none): Polish Kijów, Charków, Lwów; Czech
# and Slovak Kyjev; Finnish Kiova, Harkova, Riika; German Kiew; Spanish Járkov. Each counts
# only in its own language (Kiova is Finnish; an English item's "Kiowa" stays a tribe).
EXONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "kyiv": {"pl": ("kijow",), "cs": ("kyjev",), "sk": ("kyjev",), "fi": ("kiova",),
             "de": ("kiew",)},
    "kharkiv": {"pl": ("charkow",), "fi": ("harkova",), "es": ("jarkov",)},
    "lviv": {"pl": ("lwow",)},
    # Finnish gradates Riika (Riian, Riiassa), which no stem of it reaches: the forms.
    "riga": {"fi": ("riika", "riian", "riiassa", "riiasta", "riikaan", "riialla")},
}  # fmt: skip


_PL_IE = re.compile("(?<=[бвгдзклмнпрстфх])е")  # not after ж ш ц ч щ: Polish że, sze, cze
# French drops a final й after и, ы: Zelenski, Dmitri, Grozny (not Zelenskii, Groznyi).
_FR_FINAL_Y = re.compile("(?<=[иы])й$", re.MULTILINE)


def respell(cyrillic: list[str]) -> dict[str, list[str]]:
    """Each scheme's Latin spellings of many Cyrillic words, in order, in one pass each."""
    joined = "\n".join(cyrillic)
    own = {"fr": _FR_FINAL_Y.sub("", joined)}
    own["pl"] = own["pl-h"] = _PL_IE.sub("ие", joined)
    return {
        name: own.get(name, joined).translate(table).split("\n") for name, table in _TABLES.items()
    }


def genitives(spelled: list[str]) -> list[str]:
    """German (and Dutch, Swedish) possessive -s of respelled names: Budanows, Nawalnys."""
    return [s + "s" for s in spelled]
