"""The forms of a place name that its stem alone does not reach, as words to be keyed.

Snowball cannot undo a consonant change (Рига -> Ризі, ризький; Kaluga -> v Kaluze, w
Kałudze), keeps a short name whole (Уфа, Уфе), and cuts -ов as if it were an ending
(Буданов -> будан, but Буданова -> буданов). So a name written in a watch also brings
these surface forms, keyed like any item word (``variants``), which puts each one under
the same key as the item's word. Feminine adjectives come out as feminine keys.
"""

from __future__ import annotations

from alerts.matching.languages import stem_words

_VOWELS_CYR = "аеиоуыэюяіїєьй"
_RU_CHANGE = {"г": "ж", "к": "ч", "х": "ш"}  # Рига -> рижский, Волга -> волжский
_UK_CHANGE = {"г": "з", "к": "ц", "х": "с"}  # Рига -> Ризі, ризький
# Czech and Slovak, Polish: (last consonant, its changed form before -e / the adjective).
# Polish softens every hard consonant before the locative -e (Biełgorodzie, Bachmucie,
# Omsku is -u): d -> dzi, t -> ci, r -> rz, the labials and n, s, z take an i.
_PL_SOFT = {c: (c + "i", c) for c in "bfmnpswz"} | {"d": ("dzi", "d"), "t": ("ci", "t")}
_LATIN_CHANGE = {
    "cs": {"g": ("z", "z"), "h": ("z", "z"), "k": ("c", "c")},
    "sk": {"g": ("z", "z"), "h": ("z", "z"), "k": ("c", "c")},
    "pl": {"g": ("dz", ""), "k": ("c", ""), "r": ("rz", "r"), **_PL_SOFT},
}  # fmt: skip
_LATIN_CASES = {
    "cs": ("e", "y", "u", "ou", "ovi"),
    "sk": ("e", "y", "u", "ou", "ovi"),
    "pl": ("ie", "y", "e", "a", "i", "iem"),
}
LATIN_LANGUAGES = (*_LATIN_CASES, "fi")
# Finnish case endings of a name (a consonant-final one takes an -i- first: Witkoffissa),
# and the shortest Finnish stem of a form that counts: Snowball cuts more than an ending
# from a foreign name (Khamenein -> khamen), and a short stem is some Finnish word's.
_FI_CASES = ("n", "ssa", "sta", "lla", "lta", "lle", "ksi", "na", "ta", "a")
_FI_MIN_STEM = 5


def cyrillic_forms(name: str) -> list[str]:
    """Case forms and place adjectives of a Cyrillic name (Russian and Ukrainian)."""
    if len(name) < 3:
        return []
    if name[-1] not in _VOWELS_CYR:  # Буданов, Харьков, Брянськ
        forms = [name + "а", name + "е", name + "ом"]
        root = name
    else:
        root = name[:-1]
        forms = [root + end for end in ("е", "и", "у", "ы", "ой", "ою", "і")]
    if name.endswith(("ськ", "ск", "цк")):
        return forms  # брянський shares Брянськ's stem already
    last = root[-1:]
    for changed in {root, root[:-1] + _RU_CHANGE.get(last, last)}:
        forms += [changed + "ский", changed + "ская"]
    forms += [root + "ський", root + "ська"]
    if last in _UK_CHANGE:
        changed = root[:-1] + _UK_CHANGE[last]
        forms += [changed + "і", changed + "ький", changed + "ька"]  # Ризі, ризький
    return forms


def latin_forms(name: str, language: str) -> list[str]:
    """Case forms and place adjectives of a Latin name in Czech, Slovak or Polish."""
    if language == "fi":
        return finnish_name_forms(name)
    cases = _LATIN_CASES.get(language)
    if cases is None or len(name) < 3 or name.endswith(("sk", "ck")):
        return []
    root = name[:-1] if name[-1] in "aeiouy" else name
    forms = [root + end for end in cases]
    last = root[-1:]
    before_e, adjective = _LATIN_CHANGE[language].get(last, (last, last))
    forms.append(root[:-1] + before_e + "e")  # v Kaluze, w Kałudze
    forms += [root[:-1] + adjective + end for end in ("ski", "ska", "sky")]
    return forms


def finnish_name_forms(name: str) -> list[str]:
    """Finnish case forms of a Latin name whose stems the name's own does not give
    (Khamenei: Khamenein, Khameneille), each stem at least ``_FI_MIN_STEM`` letters and a
    start of the name: a short one would be a Finnish word's (Tula: tuli, "fire")."""
    if len(name) < _FI_MIN_STEM:
        return []
    stem = name if name[-1] in "aeiouy" else name + "i"
    back = any(c in "aou" for c in name)
    ends = [e if back else e.replace("a", "ä") for e in _FI_CASES]
    forms = [stem + e for e in ends] + [stem + stem[-1] + "n", stem + "h" + stem[-1] + "n"]
    own = stem_words("fi", [name])[0]
    return [
        f
        for f, s in zip(forms, stem_words("fi", forms), strict=True)
        if s != own and len(s) >= _FI_MIN_STEM and name.startswith(s)
    ]


def finnish_forms(word: str) -> list[str]:
    """Finnish -us/-os/-ys/-is nouns change their stem to -ukse-: ohjus -> ohjuksella."""
    if len(word) < 4 or word[-1] != "s" or word[-2] not in "uoyi":
        return []
    return [word[:-1] + "ksen", word + "ta"]
