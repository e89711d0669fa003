"""The indexed matcher agrees with a slow reference evaluation on random watches and items."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.matching import Matcher
from alerts.models import Item
from alerts.rules import RuleSet
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import And, Near, Node, Not, Or, Term
from tests.matching.reference import reference_match

# Item words: inflections, both scripts, aliases, a hyphenated compound, a word that merely
# starts like a term, and words shared by several terms.
TEXT_WORDS = [
    "Kaluga", "Калуге", "Калужской", "Kalugin", "drone", "drones", "cease-fire", "ceasefire",
    "Zelenskyy", "Зеленский", "Kyiv", "Киев", "negotiators", "renegotiation", "talks",
    "coalition", "of", "the", "willing", "exercise", "Tula", "30-day", "truce", "Ka\u00adluga",
]  # fmt: skip
SEPARATORS = [" ", " ", ", ", ". ", " — ", "\n"]

WORD_TERMS = ["Kaluga", "drone", "ceasefire", "cease-fire", "Zelensky", "Київ", "talks", "Tula"]
TERMS = st.one_of(
    st.builds(Term, st.sampled_from(WORD_TERMS)),
    st.builds(Term, st.sampled_from(["Kaluga drone", "the willing", "coalition of"])),
    st.builds(lambda t: Term(t, "word", True), st.sampled_from(["Kaluga", "drones", "of the"])),
    st.builds(lambda t: Term(t, "prefix"), st.sampled_from(["negotiat", "kalug", "the wil"])),
    st.just(Term(r"\d+-day (ceasefire|truce)", "regex")),
    st.builds(
        lambda t, f: Term(t, "word", False, frozenset(f)),
        st.sampled_from(WORD_TERMS),
        st.sets(st.sampled_from(["title", "body", "summary"]), min_size=1),
    ),
)
NEAR = st.builds(
    lambda a, b, slop: Near((Term(a), Term(b)), slop),
    st.sampled_from(["Kaluga", "drone", "talks"]),
    st.sampled_from(["Zelensky", "Tula", "ceasefire"]),
    st.integers(1, 4),
)
LEAVES = st.one_of(TERMS, TERMS, NEAR)


def _tree(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(many.map(And), many.map(Or), children.map(Not))


TREES = st.recursive(LEAVES, _tree, max_leaves=5).filter(lambda n: not isinstance(n, Not))
FIELD_SETS = st.sampled_from([("title", "summary", "body"), ("title",), ("body", "url")])


@st.composite
def rules(draw: st.DrawFn) -> tuple[Rule, ...]:
    """A few watches, some with a source filter."""
    out = []
    for i in range(draw(st.integers(1, 6))):
        sources = frozenset({"tass"}) if draw(st.integers(0, 5)) == 0 else frozenset()
        fields = frozenset(draw(FIELD_SETS))
        notify = NotifySpec(channels=("email",))
        out.append(Rule(f"w{i}", f"w{i}", notify, draw(TREES), fields, sources=sources))
    return tuple(out)


def texts(max_words: int) -> st.SearchStrategy[str]:
    """Text made of the item words, with assorted separators."""
    pairs = st.tuples(st.sampled_from(TEXT_WORDS), st.sampled_from(SEPARATORS))
    return st.lists(pairs, max_size=max_words).map(lambda ps: "".join(w + s for w, s in ps))


ITEMS = st.builds(
    lambda title, body, summary, source: Item(
        id="i", source=source, title=title, body=body, summary=summary, url="https://x/kaluga"
    ),
    texts(6),
    texts(30),
    texts(6),
    st.sampled_from(["tass", "bbc"]),
)


def _has_near(node: Node) -> bool:
    if isinstance(node, Near):
        return True
    if isinstance(node, Not):
        return _has_near(node.child)
    return isinstance(node, And | Or) and any(_has_near(c) for c in node.children)


@given(rules(), st.lists(ITEMS, min_size=1, max_size=3))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_matcher_agrees_with_reference(watches: tuple[Rule, ...], items: list[Item]) -> None:
    matcher = Matcher(RuleSet(watches, "v"))
    for item in items:
        got = {m.watch: m for m in matcher.match(item)}
        expected = {r.id: found for r in watches if (found := reference_match(r, item))}
        assert sorted(got) == sorted(expected)
        for rule in watches:
            if rule.id not in got:
                continue
            match, (clause, spans) = got[rule.id], expected[rule.id]
            assert match.clause == clause
            if not _has_near(rule.tree):  # a proximity clause reports one window, not all
                assert {(h.field, h.start, h.end) for h in match.hits} == spans
            for hit in match.hits:
                assert item.field_text(hit.field)[hit.start : hit.end] == hit.text
