"""An index as an item of one language sees it: the keys of that language's stemmer added.

The build keys term words in English and Russian only (``termkeys``, ``stems=False``).
In a view, a Latin term word also accepts the key its language's stemmer gives it
(Raketen -> raket, Tuly -> tul) where that key is not among its keys already. A view
stores no atoms, only a bit per atom: whether the language changes it. A changed atom's
pattern is worked out when an item first asks for it, from the term text the index keeps
and the language's word-key table, and remembered for the next items in a bounded memo.
What a view must find in advance, the atoms that the added keys anchor, goes into one
table shared by every language (``viewkeys``), 8 bytes a (key, atom) pair. A view is
built once per rule set, when the matcher is made for the languages it expects
(``Matcher(ruleset, languages=...)``) or on the first item of another language, never
once per item; languages that share a stemmer (Czech and Slovak) share a view; a key of
one language never fires a watch on an item of another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from alerts.gcpause import give_back_freed, paused_gc
from alerts.matching.atoms import KEYS, PHRASE, Keyed, Only, Pattern, Phrase
from alerts.matching.keytable import table_for
from alerts.matching.languages import ALGORITHMS, DEFAULT
from alerts.matching.text import words
from alerts.matching.translit import script
from alerts.matching.variants import latin_keys
from alerts.matching.viewkeys import ViewAnchors, pair

if TYPE_CHECKING:
    from alerts.matching.index import Index

# Atoms whose words are keyed in one batch while a view is built: their words, keys and
# patterns are a view's scratch (8192 atoms held 3 MiB more at a time, and were no faster).
CHUNK = 2048
MEMO_ATOMS = 2048  # changed atoms' patterns a view remembers before it starts over


class LanguageView:
    """The atoms as items of one stem language see them: ``view[atom]`` is a pattern."""

    __slots__ = ("_atoms", "_memo", "_texts", "changed", "language")

    def __init__(self, index: Index, language: str, changed: bytes) -> None:
        self.language = language
        self._atoms, self._texts = index.atoms, index.texts
        self.changed = changed  # a bit per atom: whether the language adds a key to it
        self._memo: dict[int, Pattern] = {}

    def __getitem__(self, atom: int) -> Pattern:
        if not self.changed[atom >> 3] >> (atom & 7) & 1:
            return self._atoms[atom]  # most atoms: the index's own pattern
        return self.pattern(atom)

    def pattern(self, atom: int) -> Pattern:
        """The pattern of an atom whose bit is set, worked out on its first ask."""
        found = self._memo.get(atom)
        if found is None:
            if len(self._memo) >= MEMO_ATOMS:
                self._memo.clear()
            pattern, toks = self._atoms[atom], words(self._texts[atom])
            extended = _extend(pattern, _keys_of(toks, self.language), self.language)
            found = self._memo[atom] = pattern if extended is None else extended[0]
        return found

    def __len__(self) -> int:
        return len(self._atoms)


def view(index: Index, language: str) -> LanguageView | None:
    """The index's view for a stem language (None for English: the index itself)."""
    if language == DEFAULT or not index.texts:
        return None
    found: LanguageView | None = index.views.get(language)
    if found is None:
        found = index.views[language] = _shared(index, language) or _build(index, language)
    return found


def _shared(index: Index, language: str) -> LanguageView | None:
    """The view of a language with the same stemmer, when one was built (cs for sk)."""
    for other, seen in index.views.items():
        if ALGORITHMS[other] == ALGORITHMS[language]:
            return seen  # type: ignore[no-any-return]
    return None


def _build(index: Index, language: str) -> LanguageView:
    if index.view_anchors is None:
        index.view_anchors = ViewAnchors()
    changed = bytearray((len(index.atoms) + 7) // 8)
    with paused_gc():  # short-lived batches; the index's objects need no cycle search
        index.view_anchors.add(_pairs(index, language, changed))
    give_back_freed()  # the batches' pages, as after a build
    return LanguageView(index, language, bytes(changed))


def _pairs(index: Index, language: str, changed: bytearray) -> Iterator[int]:
    """(key, atom) of every key the language adds to an anchor atom, a chunk at a time so
    that only one chunk's words and keys are ever alive; marks the atoms it changes."""
    owners, texts, atoms = index.anchor_watches, index.texts, index.atoms
    for at in range(0, len(texts), CHUNK):
        chunk = [a for a in range(at, min(at + CHUNK, len(texts))) if texts[a]]
        toks_of = [words(texts[a]) for a in chunk]
        lat = sorted({t for toks in toks_of for t in toks if script(t) == "lat"})
        keyed = dict(zip(lat, latin_keys(lat, language), strict=True))
        for atom, toks in zip(chunk, toks_of, strict=True):
            extended = _extend(atoms[atom], [keyed.get(t) for t in toks], language)
            if extended is None:
                continue
            changed[atom >> 3] |= 1 << (atom & 7)
            if owners[atom]:
                yield from (pair(key, atom) for key in extended[1])


def _keys_of(toks: list[str], language: str) -> list[str | None]:
    """Each Latin word's key in ``language``, None for another. From the language's word
    table, which keeps the words keyed here too (items ask for the same atoms again)."""
    table = table_for(language)
    out = [table.get(t) if script(t) == "lat" else None for t in toks]
    missing = [t for t, key in zip(toks, out, strict=True) if key is None and script(t) == "lat"]
    if missing:
        keys = latin_keys(missing, language)
        table.add(missing, keys)
        keyed = dict(zip(missing, keys, strict=True))
        out = [keyed.get(t, key) for t, key in zip(toks, out, strict=True)]
    return out


def _extend(
    pattern: Pattern, added: list[str | None], language: str
) -> tuple[Pattern, set[str]] | None:
    """The pattern with each word's key in ``language``, and the keys it newly accepts;
    None when nothing changes."""
    if pattern[0] == KEYS:
        options, only = _add((pattern[1],), pattern[2], added[:1], language)
        if options is None:
            return None
        new = set(options[0]) - set(pattern[1]) | _allowed(pattern[2], only)
        return Keyed(KEYS, options[0], only), new
    options, only = _add(pattern[1], pattern[3], added, language)
    if options is None:
        return None
    new = {k for o, p in zip(options, pattern[1], strict=True) for k in o if k not in p}
    return Phrase(PHRASE, options, pattern[2], only), new | _allowed(pattern[3], only)


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
