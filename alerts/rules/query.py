"""The ``query:`` syntax (Lucene's, parsed by luqum) compiled to the watch tree."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from luqum import tree as lq
from luqum.exceptions import ParseError
from luqum.parser import parser

from alerts.models import FIELDS
from alerts.rules.tree import And, Near, Node, Not, Or, Term, and_of, or_of

ListLookup = Callable[[str], Node]


class QueryProblem(ValueError):
    """A query that cannot be compiled; the message is shown after the query's position."""


def parse_query(text: str, *, exact: bool, lists: ListLookup) -> Node:
    """Compile a query string to a tree, or raise QueryProblem."""
    try:
        parsed = parser.parse(text)
    except (ParseError, Exception) as exc:
        if isinstance(exc, QueryProblem):
            raise
        raise QueryProblem(f"invalid query: {_clean(str(exc))}") from None
    return _Compiler(exact, lists).node(parsed, None)


def term_from_text(text: str, *, exact: bool, fields: frozenset[str] | None = None) -> Term:
    """A term written as a plain string: a word or phrase, or a prefix ending in '*'."""
    stripped = text.strip()
    if stripped.endswith("*") and len(stripped) > 1 and "*" not in stripped[:-1]:
        return Term(stripped[:-1], "prefix", exact, fields)
    if "*" in stripped or "?" in stripped:
        raise QueryProblem(f"wildcards are only allowed at the end of a term: {text!r}")
    return Term(stripped, "word", exact, fields)


def _clean(message: str) -> str:
    return message.replace("Syntax error in input : ", "").rstrip("!")


class _Compiler:
    def __init__(self, exact: bool, lists: ListLookup) -> None:
        self.exact = exact
        self.lists = lists

    def node(self, n: lq.Item, fields: frozenset[str] | None) -> Node:
        """Compile one luqum node within an optional field scope."""
        if isinstance(n, lq.AndOperation | lq.UnknownOperation):
            return self._and([self.node(c, fields) for c in n.children])
        if isinstance(n, lq.OrOperation):
            return or_of([self.node(c, fields) for c in n.children])
        if isinstance(n, lq.Not | lq.Prohibit):
            return Not(self.node(n.a, fields))
        if isinstance(n, lq.Plus):
            return self.node(n.a, fields)
        if isinstance(n, lq.Group | lq.FieldGroup):
            return self.node(n.expr, fields)
        if isinstance(n, lq.SearchField):
            return self._field(n, fields)
        return self._leaf(n, fields)

    def _and(self, nodes: list[Node]) -> Node:
        flat: list[Node] = []
        for node in nodes:
            flat.extend(node.children if isinstance(node, And) else (node,))
        return and_of(flat)

    def _field(self, n: lq.SearchField, fields: frozenset[str] | None) -> Node:
        if n.name == "list":
            if not isinstance(n.expr, lq.Word):
                raise QueryProblem("list: takes a list name")
            return self.lists(n.expr.value)
        if n.name not in FIELDS:
            raise QueryProblem(f"unknown field {n.name!r} (use one of {', '.join(FIELDS)}, list)")
        return self.node(n.expr, frozenset({n.name}))

    def _leaf(self, n: lq.Item, fields: frozenset[str] | None) -> Node:
        if isinstance(n, lq.Word):
            value = n.value.replace("\\", "")
            exact = value.startswith("=") or self.exact
            return term_from_text(value.removeprefix("="), exact=exact, fields=fields)
        if isinstance(n, lq.Phrase):
            return Term(n.value[1:-1].strip(), "word", self.exact, fields)
        if isinstance(n, lq.Regex):
            return Term(n.value[1:-1], "regex", False, fields)
        if isinstance(n, lq.Proximity) and isinstance(n.term, lq.Phrase):
            return self._near(n.term.value[1:-1], int(n.degree or 0), fields)
        raise QueryProblem(f"unsupported query syntax: {str(n).strip()!r}")

    def _near(self, phrase: str, slop: int, fields: frozenset[str] | None) -> Node:
        words = phrase.split()
        if slop <= 0 or len(words) < 2:
            return Term(phrase.strip(), "word", self.exact, fields)
        return Near(tuple(Term(w, "word", self.exact) for w in words), slop, fields)


def list_lookup(lists: Mapping[str, Node]) -> ListLookup:
    """A lookup of named term lists that reports unknown names."""

    def lookup(name: str) -> Node:
        if name not in lists:
            raise QueryProblem(f"unknown term list {name!r}")
        return lists[name]

    return lookup


__all__ = ["Or", "QueryProblem", "list_lookup", "parse_query", "term_from_text"]
