"""The boolean tree every watch compiles to, whether written as any/all/none or as a query."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from operator import is_
from typing import Any, Literal

from alerts.rules.confidence import KINDS

TermKind = Literal["word", "prefix", "regex"]
SurnameGender = Literal["same", "any"]
LetterCase = Literal["names", "any"]


class _Clause:
    """``render()``, worked out once and kept in the node's ``_clause`` slot: nodes are
    immutable and slotted (a watch's nodes are most of a big rule set's memory), and every
    matched term reports its clause. No lock: two threads racing compute the same string."""

    def __get__(self, node: Any, owner: Any = None) -> Any:
        if node is None:
            return self
        text: str = node._clause
        if not text:
            text = node.render()
            object.__setattr__(node, "_clause", text)
        return text


def _memo() -> Any:
    """The ``_clause`` slot: not an argument, not compared, not shown."""
    return field(default="", init=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Term:
    """A word, phrase, prefix or regex, with its options."""

    text: str
    kind: TermKind = "word"
    exact: bool = False
    fields: frozenset[str] | None = None
    # "any": a surname also finds its other gender's form (Zelensky, Zelenska); the key
    # layer reads it where it works out the term's keys.
    surname_gender: SurnameGender = "same"
    # "names": a capitalised term counts where the item writes it as a name, a lower-case
    # word not where it is capitalised as one (``alerts.matching.lettercase``); "any": no
    # rule. Read where the term's leaf is compiled; the term's keys do not depend on it.
    letter_case: LetterCase = "names"
    _clause: str = _memo()
    clause = _Clause()  # render(), worked out once

    def render(self) -> str:
        """The term in query syntax."""
        if self.kind == "regex":
            body = f"/{self.text}/"
        elif self.kind == "prefix":
            body = f"{self.text}*"
        else:
            body = f'"{self.text}"' if " " in self.text or not self.text.isalnum() else self.text
        body = f"={body}" if self.exact else body
        return _scoped(self.fields, body)


@dataclass(frozen=True, slots=True)
class Near:
    """Words within ``slop`` positions of each other, in one field: ``"a b"~10``."""

    terms: tuple[Term, ...]
    slop: int
    fields: frozenset[str] | None = None
    _clause: str = _memo()
    clause = _Clause()  # render(), worked out once

    def render(self) -> str:
        """The proximity clause in query syntax."""
        return _scoped(self.fields, f'"{" ".join(t.text for t in self.terms)}"~{self.slop}')


@dataclass(frozen=True, slots=True)
class And:
    """Every child holds."""

    children: tuple[Node, ...]

    def render(self) -> str:
        """The conjunction in query syntax."""
        return " AND ".join(_paren(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Or:
    """At least one child holds."""

    children: tuple[Node, ...]

    def render(self) -> str:
        """The disjunction in query syntax."""
        return " OR ".join(_paren(c) for c in self.children)


@dataclass(frozen=True, slots=True)
class Not:
    """The child does not hold."""

    child: Node
    _clause: str = _memo()
    clause = _Clause()  # render(), worked out once

    def render(self) -> str:
        """The negation in query syntax."""
        return f"NOT {_paren(self.child)}"


@dataclass(frozen=True, slots=True)
class Guard:
    """The child, counting only occurrences of its terms that pass the watch's filters.

    An occurrence within ``within`` words of one of ``away`` (not_near) does not count, nor
    one found less confidently than ``level`` (a rank of ``confidence.KINDS``; min_confidence).
    """

    child: Node
    away: Node | None = None
    within: int = 0
    level: int = len(KINDS) - 1
    _clause: str = _memo()
    clause = _Clause()  # render(), worked out once

    def render(self) -> str:
        """The child in query syntax, the filters after it in brackets."""
        notes = [f"not within {self.within} words of {_paren(self.away)}"] if self.away else []
        notes += [f"min_confidence {KINDS[self.level]}"] if self.level < len(KINDS) - 1 else []
        return f"{_paren(self.child)} [{'; '.join(notes)}]"


Node = Term | Near | And | Or | Not | Guard


def _paren(node: Node) -> str:
    text = node.render()
    return f"({text})" if isinstance(node, And | Or) and len(node.children) > 1 else text


def _scoped(fields: frozenset[str] | None, body: str) -> str:
    if not fields:
        return body
    if len(fields) == 1:
        return f"{next(iter(fields))}:{body}"
    return "(" + " OR ".join(f"{f}:{body}" for f in sorted(fields)) + ")"


def and_of(nodes: list[Node]) -> Node:
    """A conjunction, flattened when it has one child."""
    return nodes[0] if len(nodes) == 1 else And(tuple(nodes))


def or_of(nodes: list[Node]) -> Node:
    """A disjunction, flattened when it has one child."""
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def has_positive(node: Node) -> bool:
    """Whether the tree can fire on something present (a watch of only NOTs cannot)."""
    if isinstance(node, Term):  # most nodes: asked first
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(map(has_positive, node.children))
    if isinstance(node, Or):
        return all(map(has_positive, node.children))
    if isinstance(node, Guard):
        return has_positive(node.child)
    return True


def terms_of(node: Node) -> list[Term]:
    """Every term of a tree, in order (a guard's not_near terms last)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Near):
        return list(node.terms)
    if isinstance(node, Not):
        return terms_of(node.child)
    if isinstance(node, Guard):
        return terms_of(node.child) + (terms_of(node.away) if node.away else [])
    return [t for c in node.children for t in terms_of(c)]


_GROUPS = (And, Or)


def map_terms(node: Node, fn: Callable[[Term], Term]) -> Node:
    """The tree with each term replaced by ``fn(term)``. Nodes are immutable and a list's
    terms are shared between watches: a node none of whose terms changed is kept as it is,
    the others are new nodes, never changed ones."""
    if isinstance(node, Term):
        return fn(node)
    if isinstance(node, _GROUPS):
        # A term child mapped here, not by a call: most children are terms, and a
        # 100k-watch load walks every tree (options, sharing).
        old = node.children
        children = tuple([fn(c) if isinstance(c, Term) else map_terms(c, fn) for c in old])
        return node if _same(children, old) else type(node)(children)
    if isinstance(node, Near):
        terms = tuple([fn(t) for t in node.terms])
        return node if _same(terms, node.terms) else replace(node, terms=terms)
    if isinstance(node, Not):
        child = map_terms(node.child, fn)
        return node if child is node.child else Not(child)
    child = map_terms(node.child, fn)
    away = node.away and map_terms(node.away, fn)
    if child is node.child and away is node.away:
        return node
    return replace(node, child=child, away=away)


def _same(new: tuple[Any, ...], old: tuple[Any, ...]) -> bool:
    return all(map(is_, new, old))


def share_terms(node: Node, table: dict[Term, Term]) -> Node:
    """The tree with each term replaced by the equal one already in ``table`` (a new one is
    added): terms are immutable and a big rule set repeats most of them across watches, so
    a loader keeps one object per distinct term for the whole set."""
    return map_terms(node, lambda term: table.setdefault(term, term))


def with_term_options(node: Node, **options: Any) -> Node:
    """The tree with these options (``surname_gender``, ``letter_case``) set on every term."""

    def set_options(term: Term) -> Term:
        same = all(getattr(term, name) == value for name, value in options.items())
        return term if same else replace(term, **options)

    return map_terms(node, set_options)
