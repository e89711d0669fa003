"""The per-language view as it was built before ``viewkeys``: a copy of every atom with the
language's keys added, and a dict from each added key to the watches it anchors. Kept for
the tests to check the lazy view and the shared key table against."""

from __future__ import annotations

from alerts.matching.atoms import KEYS, PHRASE, Keyed, Pattern, Phrase
from alerts.matching.index import Index
from alerts.matching.langview import _add, _allowed
from alerts.matching.text import words
from alerts.matching.translit import script
from alerts.matching.variants import latin_keys


def eager_view(index: Index, language: str) -> tuple[list[Pattern], dict[str, set[int]]]:
    """Every atom as an item of ``language`` sees it, and the anchors the language adds."""
    toks_of = {i: tuple(words(t)) for i, t in enumerate(index.texts) if t}
    lat = sorted({t for toks in toks_of.values() for t in toks if script(t) == "lat"})
    keyed = dict(zip(lat, latin_keys(lat, language), strict=True))
    atoms = list(index.atoms)
    anchors: dict[str, set[int]] = {}
    for atom, toks in toks_of.items():
        pattern = atoms[atom]
        if pattern[0] == KEYS:
            options, only = _add((pattern[1],), pattern[2], [keyed.get(toks[0])], language)
            if options is None:
                continue
            atoms[atom] = Keyed(KEYS, options[0], only)
            new = set(options[0]) - set(pattern[1]) | _allowed(pattern[2], only)
            owners = index.anchor_watches[atom] or ()
        else:
            options, only = _add(pattern[1], pattern[3], [keyed.get(t) for t in toks], language)
            if options is None:
                continue
            atoms[atom] = Phrase(PHRASE, options, pattern[2], only)
            new = {k for o, p in zip(options, pattern[1], strict=True) for k in o if k not in p}
            new |= _allowed(pattern[3], only)
            owners = (~atom,) if atom in index.anchored else ()
        for key in new if owners else ():
            anchors.setdefault(key, set()).update(owners)
    return atoms, anchors
