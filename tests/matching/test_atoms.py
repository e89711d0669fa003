"""Terms sharing an atom: one watch's result never depends on another watch."""

from __future__ import annotations

import pytest

from alerts.matching import Matcher
from alerts.models import Item
from alerts.rules import RuleSet
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import Near, Term

NOTIFY = NotifySpec(channels=("email",))
FIELDS = frozenset({"title", "body"})


def _fired(terms: list[tuple[str, str]], title: str) -> set[str]:
    rules = tuple(Rule(w, w, NOTIFY, Term(t), FIELDS) for w, t in terms)
    found = Matcher(RuleSet(rules, "v")).match(Item(id="i", source="s", title=title))
    return {m.watch for m in found}


HYPHEN = ("hy", "cease-fire")
SPACED = ("sp", "cease fire")


@pytest.mark.parametrize(
    ("terms", "title", "expected"),
    [
        # The joined form is accepted by the hyphenated term only, in either order.
        ([HYPHEN], "Ceasefire agreed", {"hy"}),
        ([SPACED], "Ceasefire agreed", set()),
        ([SPACED, HYPHEN], "Ceasefire agreed", {"hy"}),
        ([HYPHEN, SPACED], "Ceasefire agreed", {"hy"}),
        # Both accept the words apart and the hyphenated compound.
        ([SPACED, HYPHEN], "Cease fire agreed", {"hy", "sp"}),
        ([HYPHEN, SPACED], "A cease-fire agreed", {"hy", "sp"}),
        # Same spelling, different case: still one atom, both fire.
        ([HYPHEN, ("up", "Cease-Fire")], "Ceasefire agreed", {"hy", "up"}),
    ],
)
def test_hyphenated_and_spaced_terms_are_separate_atoms(
    terms: list[tuple[str, str]], title: str, expected: set[str]
) -> None:
    assert _fired(terms, title) == expected


@pytest.mark.parametrize(
    ("slop", "title", "expected"),
    [
        # The compound stands where its first word does.
        (10, "Talks on a cease-fire in eastern Ukraine resume", True),
        (10, "Ukraine: talks on a cease-fire resume", True),
        # cease(0) fire(1) a(2) b(3) c(4) ukraine(5): five words apart.
        (3, "cease-fire a b c Ukraine", False),
        (4, "cease-fire a b c Ukraine", True),
        # The joined and spaced spellings still count as before.
        (1, "ceasefire in Ukraine", True),
        (1, "cease fire in Ukraine", False),
    ],
)
def test_a_compound_counts_in_a_proximity_clause(slop: int, title: str, expected: bool) -> None:
    near = Near((Term("ceasefire"), Term("Ukraine")), slop)
    rules = (Rule("n", "n", NOTIFY, near, FIELDS),)
    found = Matcher(RuleSet(rules, "v")).match(Item(id="i", source="s", title=title))
    assert bool(found) is expected
