"""An index as an item of one language sees it: the keys of that language's stemmer added.

The build keys term words in English and Russian only (``termkeys``, ``stems=False``).
A view adds, in one batch over every Latin term word, the key its stemmer gives each word
(Raketen -> raket, Tuly -> tul) where that key differs: a copy of the atom list (pointers:
the atoms whose keys do not change are the index's own tuples) with those atoms replaced,
and an anchor table of the keys it adds. A view is built once per rule set, when the
matcher is made for the languages it expects (``Matcher(ruleset, languages=...)``) or on
the first item of another language, never once per item; languages that share a stemmer
(Czech and Slovak) share a view; a key of one language never fires a watch on an item of
another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alerts.gcpause import paused_gc
from alerts.matching.atoms import KEYS, PHRASE, Keyed, Only, Pattern, Phrase
from alerts.matching.languages import ALGORITHMS, DEFAULT
from alerts.matching.text import words
from alerts.matching.translit import script
from alerts.matching.variants import latin_keys

if TYPE_CHECKING:
    from alerts.matching.index import Index


@dataclass(frozen=True)
class LanguageView:
    """The atoms with one language's keys, and the anchor keys only that language adds."""

    atoms: list[Pattern]
    anchors: dict[str, tuple[int, ...]]


def view(index: Index, language: str) -> LanguageView | None:
    """The index's view for a stem language (None for English: the index itself)."""
    if language == DEFAULT or not index.texts:
        return None
    found: LanguageView | None = index.views.get(language)
    if found is None:
        found = index.views[language] = _shared(index, language) or _extend(index, language)
    return found


def _shared(index: Index, language: str) -> LanguageView | None:
    """The view of a language with the same stemmer, when one was built (cs for sk)."""
    for other, seen in index.views.items():
        if ALGORITHMS[other] == ALGORITHMS[language]:
            return seen  # type: ignore[no-any-return]
    return None


def _extend(index: Index, language: str) -> LanguageView:
    # Every atom's words, from the term text it was built from (the index keeps the text,
    # which the rule set holds anyway, rather than a tuple of words per atom).
    with paused_gc():  # a batch of new tuples; the index's objects need no cycle search
        toks_of = {i: tuple(words(t)) for i, t in enumerate(index.texts) if t}
        lat = sorted({t for toks in toks_of.values() for t in toks if script(t) == "lat"})
        keyed = dict(zip(lat, latin_keys(lat, language), strict=True))
        return _changed(index, toks_of, keyed, language)


def _changed(
    index: Index, toks_of: dict[int, tuple[str, ...]], keyed: dict[str, str], language: str
) -> LanguageView:
    atoms = list(index.atoms)
    anchors: dict[str, set[int]] = {}
    owners_of = index.anchor_watches
    for atom, toks in toks_of.items():
        pattern = atoms[atom]
        if pattern[0] == KEYS:
            options, only = _add((pattern[1],), pattern[2], [keyed.get(toks[0])], language)
            if options is None:
                continue
            atoms[atom] = Keyed(KEYS, options[0], only)
            new = set(options[0]) - set(pattern[1]) | _allowed(pattern[2], only)
            owners = owners_of[atom] or ()
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
    return LanguageView(atoms, {k: tuple(sorted(v)) for k, v in anchors.items()})


def _add(
    options: tuple[tuple[str, ...], ...], only: Only, added: list[str | None], language: str
) -> tuple[tuple[tuple[str, ...], ...] | None, Only]:
    """Each word's keys with its key in ``language``; None when nothing changes."""
    out, lifted = [], dict(only) if only else {}
    changed = False
    for keys, key in zip(options, added, strict=True):
        if key is None or (key in keys and key not in lifted):
            out.append(keys)  # no Latin word, or a key that holds everywhere already
            continue
        changed = True
        if key in lifted:  # a key of other languages: it holds in this one too now
            del lifted[key]
            out.append(keys)
        else:
            out.append((*keys, key))
    if not changed:
        return None, only
    return tuple(out), lifted or None


def _allowed(before: Only, after: Only) -> set[str]:
    """Keys restricted before that hold in this language now."""
    return set(before or ()) - set(after or ())
