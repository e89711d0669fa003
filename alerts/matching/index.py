"""One index for all watches: hash tables from word keys and words to watches, per-watch logic.

Terms become *atoms* shared by every watch that uses them. A fuzzy atom accepts item words
by their keys (transliterations, inflections), an exact or prefix atom by normalised words.
A watch is only evaluated when one of its *anchor* atoms occurs: a set of atoms at least
one of which must be present for it to fire. Anchors are found by intersecting the item's
keys (or words, or their prefixes of one length) with a table at C speed. A table entry
lists watches, and, as ``~atom``, phrase atoms: those are looked up by their first word
and checked before their watches count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import re2

from alerts.gcpause import give_back_freed, paused_gc
from alerts.matching import evaluate as ev
from alerts.matching import guard
from alerts.matching.anchors import Tables, register, usage
from alerts.matching.atoms import KEYS, PHRASE, PREFIX, REGEX, WORDS, Keyed, Phrase, Regex, Written
from alerts.matching.gender import both_genders
from alerts.matching.scan import Pattern, Watches
from alerts.matching.termkeys import TermKeys, term_keys
from alerts.matching.text import WORD, normalise, words
from alerts.models import FIELDS
from alerts.rules.compile import re2_options
from alerts.rules.ruleset import Rule
from alerts.rules.tree import And, Guard, Near, Node, Not, Term, terms_of

BIT = {name: 1 << i for i, name in enumerate(FIELDS)}
CHUNK = 8192  # atoms whose term words are keyed in one batch
# Atoms registered between two returns of freed memory (a power of two): a growing dict's old
# tables stay resident in the C heap, 15-25 MiB at a 250k-watch build's end, its peak.
GIVE_BACK_EVERY = 32768
__all__ = ["Index", "Pattern", "Watches", "build_index", "mask_of"]


def mask_of(fields: frozenset[str]) -> int:
    """Bit mask of field names (bit i is FIELDS[i])."""
    return sum(BIT[f] for f in fields)


@dataclass
class Index:
    """Everything the matcher needs, built once per rule set."""

    atoms: list[Pattern] = field(default_factory=list)
    watches: list[ev.Watch] = field(default_factory=list)
    always: list[int] = field(default_factory=list)
    by_key: dict[str, Watches] = field(default_factory=dict)
    # Keys that hold in items of some languages only: per key, (languages, watches) pairs.
    by_lang: dict[str, tuple[tuple[frozenset[str], Watches], ...]] = field(default_factory=dict)
    by_word: dict[str, Watches] = field(default_factory=dict)
    by_prefix: dict[int, dict[str, Watches]] = field(default_factory=dict)
    anchored: dict[int, Watches] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    mask: int = 0
    fuzzy: bool = False
    # For the keys of each item language's stemmer (``langview``), per atom when any atom
    # is fuzzy: the term text of a fuzzy atom ("" for another), and the watches an anchor
    # atom finds (None for another). Lists, not dicts: 8 bytes an atom, no int keys.
    texts: list[str] = field(default_factory=list)
    anchor_watches: list[Watches | None] = field(default_factory=list)
    views: dict[str, Any] = field(default_factory=dict)
    view_anchors: Any = None  # the keys the views add, for every language (``viewkeys``)


class _Builder:
    """Compiles trees in one pass; atom patterns follow once every term word's keys are known."""

    def __init__(self) -> None:
        self.index = Index()
        # Per (kind, exact): atom ids by normalised text, and by the text as written.
        kinds = [(k, e) for k in ("word", "prefix", "regex") for e in (False, True)]
        self.ids: dict[tuple[str, bool], dict[str, int]] = {k: {} for k in kinds}
        self.by_text: dict[tuple[str, bool], dict[str, int]] = {k: {} for k in kinds}
        # Per atom: the term behind it and its words (one word as the string itself). Two
        # lists, not a list of pairs: no pair and no 1-tuple per atom, which the build would
        # free again and leave as holes among the objects the index keeps.
        self.terms: list[Term] = []
        self.toks: list[Any] = []
        self.names: set[str] = set()  # words written with a capital: other orthographies too
        self.used = 0
        self.masks: dict[frozenset[str], int] = {}
        self.usage: list[int] = []  # terms per atom: rarer atoms make better anchors
        self.leaves: dict[tuple[int, int, str, frozenset[str] | None, str], ev.Leaf] = {}

    def mask(self, fields: frozenset[str]) -> int:
        """The field mask of a scope, remembered as used."""
        mask = self.masks.get(fields)
        if mask is None:
            mask = self.masks[fields] = mask_of(fields)
        self.used |= mask
        return mask

    def atom(self, term: Term) -> int:
        """The id of the atom for a term, registering the term the first time."""
        same_text = self.by_text[term.kind, term.exact]
        written = term.text
        if term.surname_gender != "same":
            written = f"{written} ~any"
        aid = same_text.get(written)  # terms repeat across watches: skip normalising
        if aid is None:
            aid = same_text[written] = self._new_atom(term)
        self.usage[aid] += 1  # small counts: the interpreter's cached ints, no new objects
        return aid

    def _new_atom(self, term: Term) -> int:
        # The term's fields read once each: a Term is a Python object, every read a lookup.
        kind, exact, written = term.kind, term.exact, term.text
        ids = self.ids[kind, exact]
        if kind == "regex":
            toks: tuple[str, ...] = ()
            text = written
        elif written.isascii() and written.isalpha() and written.islower():
            toks = (written,)  # most terms: one plain word, already its normal form
            text = written
        else:
            norm = normalise(written)[0]  # once: the words and the hyphen read it both
            toks = _words_of(written, norm)
            text = " ".join(toks)
            if not exact and kind == "word" and _joins(norm):
                # "cease-fire" also accepts "ceasefire", "cease fire" does not: two atoms.
                text += " -"
        if _any_gender(term):
            text += " ~any"  # a watch that asks for both genders has atoms of its own
        aid = ids.get(text)  # "Kaluga" and "kaluga" are one atom
        if aid is None:
            aid = ids[text] = len(self.terms)
            self.terms.append(term)
            self.toks.append(toks[0] if len(toks) == 1 else toks)
            self.usage.append(0)
            # Most terms have no capital: nothing more to do.
            if kind == "word" and not exact and not written.islower():
                capitals = {w for w in WORD.findall(written) if w[:1].isupper()}
                self.names.update(words(" ".join(capitals)))
        return aid

    def patterns(self) -> None:
        """Every atom's pattern, the term words' keys worked out in batches of atoms.

        Called once every tree is compiled: the lookups that only served compiling go first.
        The keys are worked out for ``CHUNK`` atoms at a time and dropped once those are
        patterns, so that their scratch is never all alive at once: what a build frees
        among the objects it keeps stays in the process as holes it cannot give back.
        """
        self.leaves.clear()
        self.ids.clear()
        self.by_text.clear()
        give_back_freed()  # their tables, before the atoms' patterns are made
        terms, toks, names = self.terms, self.toks, self.names
        atoms: list[Pattern] = []
        for at in range(0, len(terms), CHUNK):
            fuzzy: set[str] = set()
            for i in range(at, min(at + CHUNK, len(terms))):
                term = terms[i]
                if term.kind == "word" and not term.exact:
                    fuzzy.update(_tuple(toks[i]))
            keys = term_keys(fuzzy, names, stems=False)
            atoms += [
                self._pattern(terms[i], _tuple(toks[i]), keys)
                for i in range(at, min(at + CHUNK, len(terms)))
            ]
        self.index.atoms = atoms
        self.toks.clear()
        self.names.clear()
        if self.index.fuzzy:  # the text is the rule's own string: no copy
            self.index.texts = [
                t.text if atoms[i][0] in (KEYS, PHRASE) else "" for i, t in enumerate(terms)
            ]
            self.index.anchor_watches = [None] * len(atoms)
        self.terms.clear()
        give_back_freed()

    def _pattern(self, term: Term, toks: tuple[str, ...], keys: dict[str, TermKeys]) -> Pattern:
        kind = term.kind
        if kind == "regex":
            return Regex(REGEX, re2.compile(term.text, re2_options()))
        if kind == "prefix":
            return Written(PREFIX, toks)
        if term.exact:
            return Written(WORDS, toks)
        self.index.fuzzy = True
        if len(toks) == 1:  # most terms: one word, its keys' own ``only`` (never modified)
            word = keys[toks[0]]
            one = both_genders(word.all()) if _any_gender(term) else word.all()
            return Keyed(KEYS, _shared_text(one, toks[0]), word.only or None)
        options = tuple(keys[t].all() for t in toks)
        if _any_gender(term):
            options = tuple(both_genders(o) for o in options)
        only = _only(keys[t] for t in toks)
        joined: tuple[str, ...] = ()
        if _hyphenated(term):
            joined = term_keys(["".join(toks)], stems=False)["".join(toks)].every
        return Phrase(PHRASE, options, joined, only)

    def node(self, node: Node, default: frozenset[str]) -> ev.Node:
        """A tree node compiled, with atom ids and field masks."""
        if isinstance(node, Term):
            fields = node.fields
            atom, mask = self.atom(node), self.mask(fields or default)
            # What the clause, the hits and the case rule depend on.
            key = (atom, mask, node.text, fields, node.letter_case)
            leaf = self.leaves.get(key)
            if leaf is None:
                leaf = self.leaves[key] = guard.leaf(atom, mask, node)
            return leaf
        if isinstance(node, Near):
            ids = tuple(self.atom(t) for t in node.terms)
            texts = tuple(t.text for t in node.terms)
            return ev.Near(ids, node.slop, self.mask(node.fields or default), texts, node)
        if isinstance(node, Not):
            return ev.Not(self.node(node.child, default), node)
        if isinstance(node, Guard):  # not_near, min_confidence: the not_near terms are atoms
            away = tuple(self.atom(t) for t in terms_of(node.away)) if node.away else ()
            return guard.Guard(self.node(node.child, default), away, node)
        children = tuple(self.node(c, default) for c in node.children)
        return ev.All(children) if isinstance(node, And) else ev.AnyOf(children)


def _words_of(text: str, norm: str) -> tuple[str, ...]:
    """A term's normalised words (``norm``: its text normalised): the text itself when it is
    its one word (most terms), so that neither the build nor the index holds a copy of the
    rule set's string."""
    found = WORD.findall(norm)
    return (text,) if len(found) == 1 and found[0] == text else tuple(found)


def _tuple(toks: Any) -> tuple[str, ...]:
    """An atom's words as the builder keeps them (one word as the string itself)."""
    return toks if isinstance(toks, tuple) else (toks,)


def _shared_text(keys: tuple[str, ...], word: str) -> tuple[str, ...]:
    """The keys with the one equal to the word (most often its own text) as the word's
    string object: one copy of it in the process, not one per table."""
    if not any(k == word and k is not word for k in keys):
        return keys
    return tuple(word if k == word else k for k in keys)


def _hyphenated(term: Term) -> bool:
    """Whether a fuzzy term is written with a hyphen or an apostrophe (its joined form is
    accepted too: cease-fire, перемир'я)."""
    return term.kind == "word" and not term.exact and _joins(normalise(term.text)[0])


def _joins(norm: str) -> bool:
    """Whether normalised text has a hyphen or an apostrophe joining its words."""
    return "-" in norm or "'" in norm


def _any_gender(term: Term) -> bool:
    """Whether the term asks for both genders of a surname (``surname_gender: any``)."""
    return term.surname_gender == "any"


def _only(keys: Iterable[TermKeys]) -> dict[str, frozenset[str]] | None:
    """The language-bound keys of a term's words, or None when it has none."""
    out: dict[str, frozenset[str]] = {}
    for k in keys:
        out.update(k.only)
    return out or None


def _anchor(node: ev.Node, usage: list[int], atoms: list[Pattern]) -> tuple[int, ...] | None:
    """Atoms of which at least one must occur for the node to hold (None: cannot tell)."""
    if isinstance(node, ev.Leaf):
        return (node.atom,) if atoms[node.atom][0] != REGEX else None
    if isinstance(node, ev.Near):
        return (min(node.atoms, key=usage.__getitem__),)
    if not isinstance(node, ev.Group):
        return None
    subs = [_anchor(c, usage, atoms) for c in node.children]
    if isinstance(node, ev.AnyOf):
        return None if None in subs else tuple({a for s in subs for a in s})  # type: ignore[union-attr]
    known = [s for s in subs if s is not None]
    return min(known, key=lambda s: sum(map(usage.__getitem__, s))) if known else None


def build_index(rules: tuple[Rule, ...]) -> Index:
    """Compile every watch into one index."""
    # The index holds no reference cycles: a dropped matcher is freed by reference counting
    # alone (tests/test_gcpause.py). A long-lived process takes its millions of
    # objects out of the collector's scans with gc.freeze() (workers.runtime.freeze_heap).
    with paused_gc():
        return _build(rules)


def _build(rules: tuple[Rule, ...]) -> Index:
    b = _Builder()
    index = b.index
    index.watches = [ev.Watch(rule, b.node(rule.tree, rule.fields)) for rule in rules]
    b.patterns()
    # Per atom, the watches it anchors. Watch numbers are typed Any so that compiled code
    # stores the one int object per watch everywhere, instead of boxing a new one per entry.
    anchors: list[list[Any] | None] = [None] * len(index.atoms)
    numbers: list[Any] = list(range(len(index.watches)))
    for number, watch in zip(numbers, index.watches, strict=True):
        anchor = _anchor(watch.node, b.usage, index.atoms)
        if anchor is None:
            index.always.append(number)
            continue
        for atom in anchor:
            listed = anchors[atom]
            if listed is None:
                anchors[atom] = [number]
            else:
                listed.append(number)
    b.usage.clear()
    give_back_freed()
    tables, used = Tables(), usage(index.atoms)
    for atom, watches in enumerate(anchors):
        if not atom & (GIVE_BACK_EVERY - 1):
            give_back_freed()  # the tables' old hash tables, freed as they grew
        if watches is None:
            continue
        found = tuple(watches)
        anchors[atom] = None
        if index.anchor_watches:
            index.anchor_watches[atom] = found
        register(index, tables, atom, found, used)
    tables.freeze(index)
    give_back_freed()  # the merged entries' sets
    index.fields = tuple(f for f in FIELDS if b.used & BIT[f])
    index.mask = b.used
    return index
