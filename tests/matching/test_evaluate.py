"""Compiled nodes: terms shared between watches, evidence merged into hits."""

from __future__ import annotations

from alerts.matching import Matcher
from alerts.matching.evaluate import Leaf, hits_of
from alerts.matching.made import new_hit
from alerts.models import Hit, Item
from alerts.rules import RuleSet
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import Or, Term

NOTIFY = NotifySpec(channels=("email",))
FIELDS = frozenset({"title", "body"})


def _matcher(*trees: tuple[str, Term | Or]) -> Matcher:
    return Matcher(RuleSet(tuple(Rule(w, w, NOTIFY, t, FIELDS) for w, t in trees), "v"))


def test_watches_with_the_same_term_share_one_leaf_and_each_fires() -> None:
    m = _matcher(("a", Term("Kaluga")), ("b", Term("Kaluga")), ("c", Term("kaluga")))
    a, b, c = (w.node for w in m.index.watches)
    assert isinstance(a, Leaf) and a is b and a is not c  # "kaluga" is reported as written
    found = m.match(Item(id="i", source="s", title="News from Kaluga"))
    assert [(x.watch, x.clause, [h.term for h in x.hits]) for x in found] == [
        ("a", "Kaluga", ["Kaluga"]),
        ("b", "Kaluga", ["Kaluga"]),
        ("c", "kaluga", ["kaluga"]),
    ]


def test_a_scoped_term_is_its_own_leaf() -> None:
    scoped = Term("Kaluga", fields=frozenset({"body"}))
    m = _matcher(("any", Term("Kaluga")), ("body", scoped))
    assert m.index.watches[0].node is not m.index.watches[1].node
    found = m.match(Item(id="i", source="s", title="Kaluga"))
    assert [x.watch for x in found] == ["any"]


def test_a_disjunction_reports_only_the_terms_that_fired() -> None:
    m = _matcher(("w", Or((Term("Tula"), Term("drone"), Term("Kaluga")))))
    (found,) = m.match(Item(id="i", source="s", title="Kaluga drone"))
    assert found.clause == "drone OR Kaluga"
    assert [h.text for h in found.hits] == ["Kaluga", "drone"]  # in text order


def test_hits_keep_the_first_claim_of_a_span_in_offset_order() -> None:
    def hit(term: str, start: int) -> Hit:
        return new_hit(term, "body", start, start + 1, "x", ())

    first, second, later = hit("a", 5), hit("b", 5), hit("c", 1)
    evidence = [((1, 5, 6), first), ((1, 5, 6), second), ((1, 1, 2), later)]
    assert hits_of(evidence) == (later, first)
    assert hits_of(evidence)[1].term == "a"
    assert hits_of([((1, 5, 6), second)]) == (second,)
