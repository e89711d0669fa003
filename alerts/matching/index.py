"""One index for all watches: hash tables from word keys and words to watches, per-watch logic.

Terms become *atoms* shared by every watch that uses them. A fuzzy atom accepts item words
by their keys (transliterations, inflections), an exact or prefix atom by normalised words.
A watch is only evaluated when one of its *anchor* atoms occurs: a set of atoms at least
one of which must be present for it to fire. Single-word anchors are found by intersecting
the item's keys (or words) with a table at C speed; phrase anchors are found by their first
word and then checked.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

from alerts.matching.compile import re2_options
from alerts.matching.ruleset import Rule
from alerts.matching.text import normalise, words
from alerts.matching.tree import And, Near, Node, Not, Term
from alerts.matching.variants import term_keys, term_keys_many
from alerts.models import FIELDS

BIT = {name: 1 << i for i, name in enumerate(FIELDS)}
MAX_VARIANTS = 64
Compiled = tuple[Any, ...]
Watches = tuple[int, ...]
# An atom's pattern: ("k", keys) a word by its keys; ("p", key sequences, keys of the joined
# hyphenated form) a phrase; ("e", words) exact words; ("x", words) words, the last a prefix;
# ("r", compiled RE2) a regex.
Pattern = tuple[Any, ...]


@lru_cache(maxsize=200_000)
def _words(text: str) -> tuple[str, ...]:
    return tuple(words(text))


def mask_of(fields: frozenset[str]) -> int:
    """Bit mask of field names (bit i is FIELDS[i])."""
    return sum(BIT[f] for f in fields)


@dataclass
class Index:
    """Everything the matcher needs, built once per rule set."""

    atoms: list[Pattern] = field(default_factory=list)
    watches: list[tuple[Rule, Compiled]] = field(default_factory=list)
    always: list[int] = field(default_factory=list)
    key_watches: dict[str, Watches] = field(default_factory=dict)
    word_watches: dict[str, Watches] = field(default_factory=dict)
    prefix_watches: dict[int, dict[str, Watches]] = field(default_factory=dict)
    key_atoms: dict[str, tuple[int, ...]] = field(default_factory=dict)
    word_atoms: dict[str, tuple[int, ...]] = field(default_factory=dict)
    anchored: dict[int, Watches] = field(default_factory=dict)
    fields: tuple[str, ...] = ()
    fuzzy: bool = False


class _Builder:
    def __init__(self) -> None:
        self.index = Index()
        self.ids: dict[tuple[str, str, bool], int] = {}
        self.used = 0
        self.keys: dict[str, frozenset[str]] = {}

    def atom(self, term: Term) -> int:
        """The id of the atom for a term, registering its pattern the first time."""
        text = term.text if term.kind == "regex" else " ".join(_words(term.text))
        key = (term.kind, text, term.exact)
        if key in self.ids:
            return self.ids[key]
        aid = self.ids[key] = len(self.index.atoms)
        self.index.atoms.append(self._pattern(term))
        return aid

    def _pattern(self, term: Term) -> Pattern:
        if term.kind == "regex":
            return ("r", re2.compile(term.text, re2_options()))
        toks = _words(term.text)
        if term.kind == "prefix":
            return ("x", toks)
        if term.exact:
            return ("e", toks)
        self.index.fuzzy = True
        options = [sorted(self.keys.get(t) or term_keys(t)) for t in toks]
        if len(toks) == 1:
            return ("k", tuple(options[0]))
        combos = tuple(itertools.islice(itertools.product(*options), MAX_VARIANTS))
        joined: tuple[str, ...] = ()
        if "-" in normalise(term.text)[0]:
            joined = tuple(sorted(term_keys("".join(toks))))
        return ("p", combos, joined)

    def node(self, node: Node, default: frozenset[str]) -> Compiled:
        """A tree node compiled to tuples, with atom ids and field masks."""
        if isinstance(node, Term):
            fields = node.fields or default
            self.used |= mask_of(fields)
            return ("t", self.atom(node), mask_of(fields), node)
        if isinstance(node, Near):
            fields = node.fields or default
            self.used |= mask_of(fields)
            ids = tuple(self.atom(t) for t in node.terms)
            return ("n", ids, node.slop, mask_of(fields), node)
        if isinstance(node, Not):
            return ("!", self.node(node.child, default), node)
        op = "&" if isinstance(node, And) else "|"
        return (op, tuple(self.node(c, default) for c in node.children), node)


def _anchor(node: Compiled, usage: Counter[int], atoms: list[Pattern]) -> frozenset[int] | None:
    """Atoms of which at least one must occur for the node to hold (None: cannot tell)."""
    op = node[0]
    if op == "t":
        return frozenset({node[1]}) if atoms[node[1]][0] != "r" else None
    if op == "n":
        return frozenset({min(node[1], key=lambda a: usage[a])})
    if op == "!":
        return None
    subs = [_anchor(c, usage, atoms) for c in node[1]]
    if op == "|":
        return None if any(s is None for s in subs) else frozenset().union(*subs)  # type: ignore[arg-type]
    known = [s for s in subs if s is not None]
    return min(known, key=lambda s: sum(usage[a] for a in s)) if known else None


def _atoms_of(node: Compiled) -> list[int]:
    op = node[0]
    if op == "t":
        return [node[1]]
    if op == "n":
        return list(node[1])
    if op == "!":
        return _atoms_of(node[1])
    return [a for c in node[1] for a in _atoms_of(c)]


def _term_words(node: Node) -> list[str]:
    if isinstance(node, Term):
        return list(_words(node.text)) if node.kind == "word" and not node.exact else []
    if isinstance(node, Not):
        return _term_words(node.child)
    children = node.terms if isinstance(node, Near) else node.children
    return [w for c in children for w in _term_words(c)]


def _add(table: dict[str, Watches], entry: str, watches: Watches) -> None:
    old = table.get(entry)
    # Most entries belong to one atom: its tuple is shared rather than copied.
    table[entry] = watches if old is None else tuple(sorted({*old, *watches}))


def _register(index: Index, atom: int, watches: Watches) -> None:
    """Make the anchor atom findable from the item's keys or words."""
    pattern = index.atoms[atom]
    kind = pattern[0]
    if kind == "k":
        for key in pattern[1]:
            _add(index.key_watches, key, watches)
        return
    if kind in "ex" and len(pattern[1]) == 1:
        word = pattern[1][0]
        if kind == "e":
            _add(index.word_watches, word, watches)
        else:
            _add(index.prefix_watches.setdefault(len(word), {}), word, watches)
        return
    index.anchored[atom] = watches
    if kind == "p":
        firsts = {combo[0] for combo in pattern[1]} | set(pattern[2])
        for key in firsts:
            index.key_atoms[key] = (*index.key_atoms.get(key, ()), atom)
    else:
        first = pattern[1][0]
        index.word_atoms[first] = (*index.word_atoms.get(first, ()), atom)


def build_index(rules: tuple[Rule, ...]) -> Index:
    """Compile every watch into one index."""
    b = _Builder()
    b.keys = term_keys_many(w for rule in rules for w in _term_words(rule.tree))
    index = b.index
    for rule in rules:
        index.watches.append((rule, b.node(rule.tree, rule.fields)))
    usage: Counter[int] = Counter(a for _, c in index.watches for a in set(_atoms_of(c)))
    anchors: dict[int, list[int]] = {}
    for i, (_, compiled) in enumerate(index.watches):
        anchor = _anchor(compiled, usage, index.atoms)
        if anchor is None:
            index.always.append(i)
        else:
            for atom in anchor:
                anchors.setdefault(atom, []).append(i)
    for atom, watches in anchors.items():
        _register(index, atom, tuple(watches))
    index.fields = tuple(f for f in FIELDS if b.used & BIT[f])
    return index
