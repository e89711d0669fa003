"""The short cuts of a big load give what the general paths give.

``compile_rule`` turns a plain-word entry into a term without ``entry_node`` and checks it
without ``check_tree``; ``map_terms`` maps a group's term children inline; a bare number
is text by pydantic's own coercion. Each is held against the general path here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching.text import words
from alerts.rules.compile import check_tree, compile_rule, entry_node
from alerts.rules.query import QueryProblem
from alerts.rules.spec import RuleSpec, TermSpec
from alerts.rules.tree import And, Guard, Near, Not, Or, Term, and_of, map_terms, or_of
from tests.rules.test_loader import errors_of

ENTRIES = ["Kaluga", "  tula  ", "ceasefire*", "cease-fire", "Калуга", "O'Brien", 2003, 2.5]


def _general(spec: RuleSpec) -> tuple[list[object], list[str]]:
    """The any-tree and problems as entry_node and check_tree make them, one entry at a time."""
    nodes, problems = [], []
    for entry in spec.any:
        try:
            node = entry_node(entry, exact=spec.exact, lists={})
        except QueryProblem as exc:
            problems.append(str(exc))
            continue
        problems += check_tree(node, words)
        nodes.append(node)
    return nodes, problems


@pytest.mark.parametrize("exact", [False, True])
def test_plain_entries_compile_as_entry_node_makes_them(exact: bool) -> None:
    spec = RuleSpec.model_validate(
        {"id": "w", "any": ENTRIES, "exact": exact, "notify": {"channels": ["e"]}}
    )
    nodes, problems = _general(spec)
    assert problems == []
    assert compile_rule(spec, {}, lambda path, msg: None, words=words) == or_of(nodes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("...", "term '...' has no words to match"),  # checked, as check_tree checks it
        ("ka*lu", "wildcards are only allowed at the end of a term: 'ka*lu'"),
    ],
)
def test_a_bad_plain_entry_is_reported_at_its_place(entry: str, expected: str) -> None:
    spec = RuleSpec.model_validate(
        {"id": "w", "any": ["kaluga", entry], "notify": {"channels": ["e"]}}
    )
    found: list[tuple[object, str]] = []
    assert compile_rule(spec, {}, lambda path, msg: found.append((path, msg)), words=words) is None
    assert found == [(("any", 1), expected)]
    assert _general(spec)[1] == [expected]


def test_bare_numbers_are_text_and_a_bool_is_refused(tmp_path: Path) -> None:
    spec = RuleSpec.model_validate(
        {"id": "w", "any": [2003, 2.5, 10**20, {"term": "x"}], "notify": {"channels": ["e"]}}
    )
    assert spec.any == ("2003", "2.5", "100000000000000000000", TermSpec(term="x"))
    text = "id: k\nany: [2003, true]\nnotify: {channels: [email]}\n"
    refused = ["a.yaml:2:13: any[1]: input should be a valid string"]
    assert errors_of(tmp_path, a__yaml=text) == refused


def _upper(term: Term) -> Term:
    return Term(term.text.upper(), term.kind, term.exact, term.fields)


def test_map_terms_maps_every_term_and_keeps_unchanged_nodes() -> None:
    a, b, c, d = Term("a"), Term("b"), Term("c"), Term("d")
    tree = And((Or((a, Not(b))), Near((c, d), 3), Guard(or_of([a, c]), away=d, within=2)))
    assert map_terms(tree, lambda t: t) is tree
    mapped = map_terms(tree, _upper)
    expected = And(
        (
            Or((Term("A"), Not(Term("B")))),
            Near((Term("C"), Term("D")), 3),
            Guard(Or((Term("A"), Term("C"))), away=Term("D"), within=2),
        )
    )
    assert mapped == expected
    # Only the changed branch is new: the others are the very same objects.
    only_b = map_terms(tree, lambda t: _upper(t) if t is b else t)
    assert isinstance(only_b, And)
    assert only_b.children[1] is tree.children[1] and only_b.children[2] is tree.children[2]
    assert only_b.children[0] != tree.children[0]
    assert and_of([a]) is a
