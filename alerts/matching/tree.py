"""The boolean tree every watch compiles to, whether written as any/all/none or as a query."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

TermKind = Literal["word", "prefix", "regex"]


@dataclass(frozen=True)
class Term:
    """A word, phrase, prefix or regex, with its options."""

    text: str
    kind: TermKind = "word"
    exact: bool = False
    fields: frozenset[str] | None = None

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

    @cached_property
    def clause(self) -> str:
        """``render()``, worked out once: nodes are immutable, and reported on every match."""
        return self.render()


@dataclass(frozen=True)
class Near:
    """Words within ``slop`` positions of each other, in one field: ``"a b"~10``."""

    terms: tuple[Term, ...]
    slop: int
    fields: frozenset[str] | None = None

    def render(self) -> str:
        """The proximity clause in query syntax."""
        return _scoped(self.fields, f'"{" ".join(t.text for t in self.terms)}"~{self.slop}')

    @cached_property
    def clause(self) -> str:
        """``render()``, worked out once: nodes are immutable, and reported on every match."""
        return self.render()


@dataclass(frozen=True)
class And:
    """Every child holds."""

    children: tuple[Node, ...]

    def render(self) -> str:
        """The conjunction in query syntax."""
        return " AND ".join(_paren(c) for c in self.children)


@dataclass(frozen=True)
class Or:
    """At least one child holds."""

    children: tuple[Node, ...]

    def render(self) -> str:
        """The disjunction in query syntax."""
        return " OR ".join(_paren(c) for c in self.children)


@dataclass(frozen=True)
class Not:
    """The child does not hold."""

    child: Node

    def render(self) -> str:
        """The negation in query syntax."""
        return f"NOT {_paren(self.child)}"

    @cached_property
    def clause(self) -> str:
        """``render()``, worked out once: nodes are immutable, and reported on every match."""
        return self.render()


Node = Term | Near | And | Or | Not


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
    if isinstance(node, Not):
        return False
    if isinstance(node, And):
        return any(has_positive(c) for c in node.children)
    if isinstance(node, Or):
        return all(has_positive(c) for c in node.children)
    return True
