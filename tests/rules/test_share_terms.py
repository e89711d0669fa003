"""One object per distinct term in a loaded rule set (``tree.share_terms``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from alerts.matching.text import words
from alerts.rules.compile import compile_rule
from alerts.rules.spec import RuleSpec
from alerts.rules.tree import And, Guard, Near, Not, Or, Term, share_terms, terms_of
from tests.matching.helpers import write_rules


def test_equal_terms_of_different_watches_are_one_object(tmp_path: Path) -> None:
    rules = load_ruleset(
        write_rules(
            tmp_path,
            a__yaml="""
            watches:
              - {id: a, any: [kaluga, tula], none: [drill], notify: {channels: [e]}}
              - {id: b, any: [kaluga], all: [tula], notify: {channels: [e]}}
            """,
            b__yaml="id: c\nquery: '\"kaluga tula\"~3 AND NOT drill'\nnotify: {channels: [e]}\n",
        )
    ).rules
    found = {(t.text, id(t)) for r in rules for t in terms_of(r.tree)}
    # kaluga, tula, drill: one object each, across watches, files and node kinds (Near, Not).
    assert sorted(text for text, _ in found) == ["drill", "kaluga", "tula"]


def test_terms_with_other_options_stay_apart() -> None:
    table: dict[Term, Term] = {}
    plain, exact = Term("kaluga"), Term("kaluga", exact=True)
    assert share_terms(plain, table) is plain
    assert share_terms(exact, table) is exact  # equal text, another term
    assert share_terms(Term("kaluga"), table) is plain


def test_a_tree_whose_terms_are_all_known_already_is_returned_as_is() -> None:
    table: dict[Term, Term] = {}
    tree = And((Or((Term("a"), Term("b"))), Not(Term("c")), Near((Term("d"), Term("e")), 3)))
    assert share_terms(tree, table) is tree
    again = And((Or((Term("a"), Term("b"))), Not(Term("c")), Near((Term("d"), Term("e")), 3)))
    shared = share_terms(again, table)
    assert shared == tree and shared is not again
    assert all(x is y for x, y in zip(terms_of(shared), terms_of(tree), strict=True))
    guarded = Guard(Term("a"), away=Term("z"), within=2)
    assert share_terms(guarded, table).child is terms_of(tree)[0]


SPECS = [
    {"any": ["kaluga", "tula"], "none": ["drill"]},
    {"any": ["kaluga"], "all": [{"term": "tula", "fields": ["title"]}], "exact": True},
    {"query": '"kaluga tula"~3 AND NOT drill', "any": ["tula"]},
    {"any": ["kaluga", {"list": "places"}], "surname_gender": "any"},
    {"any": ["Kaluga"], "letter_case": "any", "not_near": {"terms": ["tula"], "within": 2}},
    {"any": ["kaluga"], "min_confidence": "exact", "not_near": {"terms": ["x y"], "within": 1}},
]


@pytest.mark.parametrize("extra", SPECS)
def test_a_tree_compiled_with_the_table_is_the_shared_tree(extra: dict[str, object]) -> None:
    spec = RuleSpec.model_validate({"id": "w", "notify": {"channels": ["e"]}, **extra})
    lists = {"places": Or((Term("tula"), Term("oryol")))}
    table: dict[Term, Term] = {Term("tula"): Term("tula"), Term("drill"): Term("drill")}
    walked = dict(table)
    tree = compile_rule(spec, lists, _no_problem, words=words, terms=table)
    plain = compile_rule(spec, lists, _no_problem, words=words)
    assert tree is not None and plain is not None
    assert tree == plain
    share_terms(plain, walked)
    assert table.keys() == walked.keys()  # the same terms entered the table as by a walk
    assert all(t is table[t] for t in terms_of(tree))  # and the tree holds the table's


def _no_problem(path: object, message: str) -> None:
    raise AssertionError(message)
