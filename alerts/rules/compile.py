"""Rule specs to trees: terms checked (words present, RE2 accepts the regex), lists resolved."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import re2

from alerts.rules.confidence import KINDS, RANK
from alerts.rules.query import QueryProblem, list_lookup, parse_query, term_from_text
from alerts.rules.spec import RuleSpec, TermEntry, TermSpec
from alerts.rules.tree import (
    Guard,
    Node,
    Not,
    Term,
    and_of,
    has_positive,
    or_of,
    share_terms,
    terms_of,
    with_term_options,
)
from alerts.rules.yamlsafe import Path_

Report = Callable[[Path_, str], None]
# The engine's words of a text (``alerts.matching.text.words``): a term without any can never
# match. Injected, so the language does not depend on the engine's normalisation.
Words = Callable[[str], Sequence[str]]
MAX_REGEX = 1000
_ASCII_WORD = re.compile("[A-Za-z0-9]")


def re2_options() -> re2.Options:
    """Case-insensitive RE2 with a memory cap and no logging of refused patterns."""
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    options.max_mem = 8 << 20
    return options


def check_regex(pattern: str) -> str | None:
    """Why RE2 refuses the pattern, or None when it compiles."""
    if len(pattern) > MAX_REGEX:
        return f"regex is longer than {MAX_REGEX} characters"
    try:
        re2.compile(pattern, re2_options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        return f"regex {pattern!r} is not supported by RE2: {reason}"
    return None


def check_term(term: Term, words: Words) -> str | None:
    """Why a term can never match, or None."""
    if term.kind == "regex":
        return check_regex(term.text)
    # An ASCII letter or digit survives normalisation as a word: most terms stop here.
    if _ASCII_WORD.search(term.text) is None and not words(term.text):
        return f"term {term.text!r} has no words to match"
    return None


def check_tree(node: Node, words: Words) -> list[str]:
    """Problems of every term in a tree."""
    if isinstance(node, Term):
        problem = check_term(node, words)
        return [problem] if problem else []
    if isinstance(node, Not):
        return check_tree(node.child, words)
    children = node.terms if hasattr(node, "terms") else node.children  # type: ignore[union-attr]
    return [p for c in children for p in check_tree(c, words)]


def entry_node(entry: TermEntry, *, exact: bool, lists: Mapping[str, Node]) -> Node:
    """One any/all/none entry as a tree node (raises QueryProblem)."""
    if isinstance(entry, str):
        return term_from_text(entry, exact=exact)
    assert isinstance(entry, TermSpec)
    fields = frozenset(entry.fields) if entry.fields else None
    if entry.list is not None:
        return list_lookup(lists)(entry.list)
    if entry.regex is not None:
        return Term(entry.regex, "regex", False, fields)
    term_exact = exact if entry.exact is None else entry.exact
    return term_from_text(entry.term or "", exact=term_exact, fields=fields)


class _RuleCompiler:
    """Compiles one rule's clauses, reporting every problem and remembering if any occurred."""

    def __init__(
        self,
        spec: RuleSpec,
        lists: Mapping[str, Node],
        report: Report,
        words: Words,
        terms: dict[Term, Term] | None,
    ) -> None:
        self.spec, self.lists, self.report, self.words = spec, lists, report, words
        self.terms = terms
        # Whether the tree may hold a term that is not the table's (a list's, a query's, a
        # mapping entry's): the finished tree is then shared term by term (share_terms).
        self.unshared = False
        self.ok = True
        # min_confidence: exact asks what exact: true does; exact terms are the cheaper way.
        self.exact = spec.exact or spec.min_confidence == "exact"
        self.away: Node | None = None  # the not_near terms

    def problem(self, path: Path_, message: str) -> None:
        """Report one problem at a path inside the rule."""
        self.ok = False
        self.report(path, message)

    def nodes(self, key: Path_, entries: tuple[TermEntry, ...], *, exact: bool) -> list[Node]:
        """The nodes of an any/all/none (or not_near terms) list."""
        out: list[Node] = []
        for i, entry in enumerate(entries):
            node: Node
            try:
                if isinstance(entry, str):  # most entries: a term straight away, shared now
                    node = term_from_text(entry, exact=exact)
                    if self.terms is not None:
                        node = self.terms.setdefault(node, node)
                else:
                    node = entry_node(entry, exact=exact, lists=self.lists)
                    self.unshared = True
            except QueryProblem as exc:
                self.problem((*key, i), str(exc))
                continue
            if isinstance(node, Term):  # check_tree's first case, without the list
                problem = check_term(node, self.words)
                if problem is not None:
                    self.problem((*key, i), problem)
            else:
                for problem in check_tree(node, self.words):
                    self.problem((*key, i), problem)
            out.append(node)
        return out

    def filters(self) -> None:
        """Check min_confidence and compile the not_near terms (``guard`` wraps with them)."""
        spec = self.spec
        if spec.exact and spec.min_confidence not in (None, "exact"):
            self.problem(
                ("min_confidence",),
                f"min_confidence {spec.min_confidence!r} contradicts exact: true "
                "(only exact hits count)",
            )
        if spec.not_near is not None:
            # Excluding words match like any term: every inflection and script of them.
            found = self.nodes(("not_near", "terms"), spec.not_near.terms, exact=False)
            for i, near in enumerate(found):
                if any(t.kind == "regex" for t in terms_of(near)):
                    self.problem(("not_near", "terms", i), "not_near takes words, not regexes")
            self.away = or_of(found) if found else None

    def guard(self, node: Node) -> Node:
        """The positive part of the watch, inside the occurrence filters it asks for."""
        spec = self.spec
        if self.away is None and spec.min_confidence is None:
            return node
        level = RANK[spec.min_confidence or KINDS[-1]]
        return Guard(node, self.away, spec.not_near.within if spec.not_near else 0, level)

    def query(self) -> list[Node]:
        """The query's tree, if the rule has one."""
        if self.spec.query is None:
            return []
        self.unshared = True
        try:
            node = parse_query(self.spec.query, exact=self.exact, lists=list_lookup(self.lists))
        except QueryProblem as exc:
            self.problem(("query",), str(exc))
            return []
        for problem in check_tree(node, self.words):
            self.problem(("query",), problem)
        return [node]


def compile_rule(
    spec: RuleSpec,
    lists: Mapping[str, Node],
    report: Report,
    *,
    words: Words,
    terms: dict[Term, Term] | None = None,
) -> Node | None:
    """The rule's tree, or None after reporting each problem at its path.

    ``terms``: a loader's table of shared terms (``tree.share_terms``); the tree's terms are
    then the table's. A plain word is shared as it is made, without a walk of the tree.
    """
    options = _term_options(spec)
    # With options every term is made anew at the end: shared then, not as it is made.
    c = _RuleCompiler(spec, lists, report, words, None if options else terms)
    any_nodes = c.nodes(("any",), spec.any, exact=c.exact)
    parts = [or_of(any_nodes)] if any_nodes else []
    parts += c.nodes(("all",), spec.all, exact=c.exact)
    none_nodes = c.nodes(("none",), spec.none, exact=c.exact)
    parts += c.query()
    c.filters()
    positive = and_of(parts) if parts else None
    if positive is None or not has_positive(positive):
        if c.ok:
            report(("id",), "a watch needs at least one term under 'any', 'all' or 'query'")
        return None
    guarded = c.guard(positive)
    parts = [guarded] if isinstance(guarded, Guard) else parts  # else as written: flat
    parts += [Not(or_of(none_nodes))] if none_nodes else []
    if not c.ok:
        return None
    tree = and_of(parts)
    if options:
        tree = with_term_options(tree, **options)
    if terms is not None and (c.unshared or options):
        tree = share_terms(tree, terms)
    return tree


def _term_options(spec: RuleSpec) -> dict[str, str]:
    """The watch's per-term options that differ from their defaults (with_term_options)."""
    options: dict[str, str] = {}
    if spec.letter_case != "names":
        options["letter_case"] = spec.letter_case
    if spec.surname_gender != "same":
        options["surname_gender"] = spec.surname_gender
    return options


def compile_list(
    name: str, entries: tuple[TermEntry, ...], report: Report, *, words: Words
) -> Node | None:
    """A named list as an OR of its terms, or None after reporting problems."""
    out: list[Node] = []
    for i, entry in enumerate(entries):
        if isinstance(entry, TermSpec) and entry.list is not None:
            report((i,), f"list {name!r} cannot refer to another list")
            continue
        try:
            node = entry_node(entry, exact=False, lists={})
        except QueryProblem as exc:
            report((i,), str(exc))
            continue
        problems = check_tree(node, words)
        for problem in problems:
            report((i,), problem)
        out += [] if problems else [node]
    if not entries:
        report((), f"list {name!r} is empty")
    return or_of(out) if out and len(out) == len(entries) else None
