"""Adversarial shapes of watches and items: the results stay right (speed is in bench/)."""

from __future__ import annotations

from alerts.matching import Matcher
from alerts.matching.document import Positions
from alerts.matching.index import build_index
from alerts.matching.keytable import key_of
from alerts.models import Item
from alerts.rules import RuleSet
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import And, Node, Term

NOTIFY = NotifySpec(channels=("email",))
BODY = frozenset({"body"})


def _matcher(trees: list[Node]) -> Matcher:
    rules = tuple(Rule(f"w{i}", f"w{i}", NOTIFY, t, BODY) for i, t in enumerate(trees))
    return Matcher(RuleSet(rules, "v"))


def _fired(matcher: Matcher, body: str) -> list[str]:
    return [m.watch for m in matcher.match(Item(id="i", source="s", title="t", body=body))]


def test_phrases_sharing_words_are_each_listed_once_sorted() -> None:
    # 60 x 60 phrases over 120 words: every word's entry merges the atoms of 60 phrases.
    trees = [Term(f"alpha{i}q beta{j}q") for i in range(60) for j in range(60)]
    rules = tuple(Rule(f"w{i}", "", NOTIFY, t, BODY) for i, t in enumerate(trees))
    index = build_index(rules)
    assert len(index.anchored) == 3600
    merged = [e for e in index.by_key.values() if len(e) > 1]
    assert merged and all(list(e) == sorted(set(e)) for e in merged)
    assert {~a for e in index.by_key.values() for a in e} == set(index.anchored)


def test_a_phrase_is_looked_up_by_its_least_used_word() -> None:
    # "the" is in every phrase: each phrase is listed under its own word alone.
    rules = tuple(Rule(f"w{i}", "", NOTIFY, Term(f"the word{i}x"), BODY) for i in range(300))
    index = build_index(rules)
    assert len(index.anchored) == 300
    assert all(len(e) == 1 for e in index.by_key.values())
    assert key_of("the") not in index.by_key


def test_many_phrases_with_a_common_word_on_a_long_item() -> None:
    # Phrases share "the", which the item repeats; only the phrases present fire.
    matcher = _matcher([Term(f"the word{i}x") for i in range(2000)])
    body = "the cat sat on the mat and " * 300
    assert _fired(matcher, body) == []
    assert _fired(matcher, body + " the word7x and the word1999x") == ["w7", "w1999"]


def test_phrase_whose_rare_word_comes_last_or_first() -> None:
    trees: list[Node] = [Term("word0x the"), Term("the word1x"), Term("on the word2x mat")]
    matcher = _matcher(trees)
    body = "the cat sat on the mat " * 200
    assert _fired(matcher, body + "word0x the") == ["w0"]
    assert _fired(matcher, body + "the word1x") == ["w1"]
    assert _fired(matcher, body + "on the word2x mat") == ["w2"]
    assert _fired(matcher, body + "word0x cat the cat word1x on word2x mat") == []


def test_exact_phrases_sharing_a_word() -> None:
    matcher = _matcher([Term(f"the word{i}x", exact=True) for i in range(500)])
    body = "the cat " * 500
    assert _fired(matcher, body) == []
    assert _fired(matcher, body + "the word3x") == ["w3"]


def test_one_word_prefix_on_many_distinct_words() -> None:
    # Every word starts with the prefix: all occurrences count, in order.
    matcher = _matcher([And((Term("ka", "prefix"), Term("zzz")))])
    body = " ".join(f"ka{i}" for i in range(300)) + " "
    found = matcher.match(Item(id="i", source="s", title="t", body=body * 5 + "zzz"))
    assert [m.watch for m in found] == ["w0"]
    prefix_hits = [h for h in found[0].hits if h.term == "ka"]
    assert len(prefix_hits) == 1500
    assert [h.start for h in prefix_hits] == sorted(h.start for h in prefix_hits)


def test_many_distinct_words_each_spanning_the_item() -> None:
    # Each word occurs at the start and the end: the positions of all of them are asked for.
    words = [f"alpha{i}q" for i in range(300)]
    matcher = _matcher([Term(w) for w in words])
    body = " ".join(words) + " filler" * 500 + " " + " ".join(words)
    found = matcher.match(Item(id="i", source="s", title="t", body=body))
    assert len(found) == 300
    assert all(len(m.hits) == 2 for m in found)


def test_positions_are_the_same_looked_up_one_by_one_or_all_at_once() -> None:
    # Past a few lookups Positions finds every entry's positions in one pass.
    entries = [f"w{i % 50}" for i in range(1000)] + ["\x1f"]
    where = Positions(entries)
    expected = {e: [p for p, x in enumerate(entries) if x == e] for e in set(entries)}
    assert {e: where.of(e) for e in sorted(expected)} == expected
    assert where.of("absent") == []
    assert where.of("w3") is where.of("w3")  # found once per document
