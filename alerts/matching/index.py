"""One index for all watches: two Aho-Corasick automata over word keys, and per-watch logic.

Terms become *atoms* shared by every watch that uses them. The fuzzy automaton holds the
keys of word terms (transliterations, inflections); the exact automaton holds normalised
words for ``exact`` terms and prefixes. A watch is only evaluated when one of its *anchor*
atoms occurs: a set of atoms at least one of which must be present for it to fire.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import ahocorasick
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


@lru_cache(maxsize=200_000)
def _words(text: str) -> tuple[str, ...]:
    return tuple(words(text))


def mask_of(fields: frozenset[str]) -> int:
    """Bit mask of field names (bit i is FIELDS[i])."""
    return sum(BIT[f] for f in fields)


@dataclass
class Index:
    """Everything the matcher needs, built once per rule set."""

    atoms: list[Term] = field(default_factory=list)
    regexes: dict[int, Any] = field(default_factory=dict)
    watches: list[tuple[Rule, Compiled]] = field(default_factory=list)
    anchors: dict[int, list[int]] = field(default_factory=dict)
    always: list[int] = field(default_factory=list)
    fuzzy: Any = None
    exact: Any = None
    fields: tuple[str, ...] = ()


class _Builder:
    def __init__(self) -> None:
        self.index = Index()
        self.ids: dict[tuple[str, str, bool], int] = {}
        self.fuzzy: dict[str, list[tuple[int, int]]] = {}
        self.exact: dict[str, list[tuple[int, int]]] = {}
        self.used = 0
        self.keys: dict[str, frozenset[str]] = {}

    def atom(self, term: Term) -> int:
        """The id of the atom for a term, registering its patterns the first time."""
        text = term.text if term.kind == "regex" else " ".join(_words(term.text))
        key = (term.kind, text, term.exact)
        if key in self.ids:
            return self.ids[key]
        aid = self.ids[key] = len(self.index.atoms)
        self.index.atoms.append(Term(term.text, term.kind, term.exact))
        if term.kind == "regex":
            self.index.regexes[aid] = re2.compile(term.text, re2_options())
        else:
            self._patterns(aid, term)
        return aid

    def _patterns(self, aid: int, term: Term) -> None:
        toks = _words(term.text)
        if term.kind == "prefix":
            self.exact.setdefault(" " + " ".join(toks), []).append((aid, len(toks)))
            return
        if term.exact:
            self.exact.setdefault(f" {' '.join(toks)} ", []).append((aid, len(toks)))
            return
        options = [sorted(self.keys.get(t) or term_keys(t)) for t in toks]
        for combo in itertools.islice(itertools.product(*options), MAX_VARIANTS):
            self.fuzzy.setdefault(f" {' '.join(combo)} ", []).append((aid, len(toks)))
        if len(toks) > 1 and "-" in normalise(term.text)[0]:
            for key in term_keys("".join(toks)):
                self.fuzzy.setdefault(f" {key} ", []).append((aid, 1))

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


def _anchor(node: Compiled, usage: Counter[int]) -> frozenset[int] | None:
    """Atoms of which at least one must occur for the node to hold (None: cannot tell)."""
    op = node[0]
    if op == "t":
        return frozenset({node[1]}) if node[3].kind != "regex" else None
    if op == "n":
        return frozenset({min(node[1], key=lambda a: usage[a])})
    if op == "!":
        return None
    subs = [_anchor(c, usage) for c in node[1]]
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


def _automaton(patterns: dict[str, list[tuple[int, int]]]) -> Any:
    if not patterns:
        return None
    auto = ahocorasick.Automaton()
    for pattern, entries in patterns.items():
        auto.add_word(pattern, (len(pattern), tuple(entries)))
    auto.make_automaton()
    return auto


def _term_words(node: Node) -> list[str]:
    if isinstance(node, Term):
        return list(_words(node.text)) if node.kind == "word" and not node.exact else []
    if isinstance(node, Not):
        return _term_words(node.child)
    children = node.terms if isinstance(node, Near) else node.children
    return [w for c in children for w in _term_words(c)]


def build_index(rules: tuple[Rule, ...]) -> Index:
    """Compile every watch into one index."""
    b = _Builder()
    b.keys = term_keys_many(w for rule in rules for w in _term_words(rule.tree))
    for rule in rules:
        b.index.watches.append((rule, b.node(rule.tree, rule.fields)))
    usage: Counter[int] = Counter(a for _, c in b.index.watches for a in set(_atoms_of(c)))
    for i, (_, compiled) in enumerate(b.index.watches):
        anchor = _anchor(compiled, usage)
        if anchor is None:
            b.index.always.append(i)
        else:
            for atom in anchor:
                b.index.anchors.setdefault(atom, []).append(i)
    b.index.fuzzy = _automaton(b.fuzzy)
    b.index.exact = _automaton(b.exact)
    b.index.fields = tuple(f for f in FIELDS if b.used & BIT[f])
    return b.index
