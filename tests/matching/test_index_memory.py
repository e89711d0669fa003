"""The index's memory layout: what a big shard's resident size depends on (bench/shards.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from alerts.matching import Matcher, index
from alerts.rules import RuleSet
from alerts.rules.tree import terms_of
from tests.matching.helpers import fired, item, ruleset_of

WATCHES = 600  # past the interpreter's cached small ints (up to 256)


def _rules(tmp_path: Path, n: int = WATCHES) -> RuleSet:
    # Every watch shares an anchor key with others (merged table entries), has one of its
    # own, and a phrase (anchored through a phrase atom) or a NOT-only part (always).
    lines = ["watches:"]
    for i in range(n):
        lines.append(
            f"  - {{id: w{i}, any: [alpha{i % 7}, beta{i}, 'gamma{i % 5} delta{i}'],"
            f" none: [omega{i % 3}], notify: {{channels: [e]}}}}"
        )
    return ruleset_of(tmp_path, "\n".join(lines) + "\n")


def _numbers(ix: index.Index) -> list[int]:
    found = [n for t in ix.by_key.values() for n in t if n >= 0]
    found += [n for t in ix.anchored.values() for n in t] + list(ix.always)
    found += [n for t in ix.anchor_watches if t for n in t]
    return found


def test_each_watch_number_is_one_int_object_in_every_table(tmp_path: Path) -> None:
    ix = Matcher(_rules(tmp_path)).index
    numbers = _numbers(ix)
    assert len(numbers) > 3 * WATCHES  # the same numbers listed in several tables
    assert len({id(n) for n in numbers}) == len(set(numbers)) == WATCHES


def test_a_one_word_terms_keys_hold_its_own_text(tmp_path: Path) -> None:
    rules = ruleset_of(tmp_path, "id: w\nany: [kaluga]\nnotify: {channels: [e]}\n")
    ix = Matcher(rules).index
    text = terms_of(rules.rules[0].tree)[0].text
    assert any(k is text for k in ix.atoms[0][1])
    assert next(k for k in ix.by_key if k == "kaluga") is text
    assert ix.texts[0] is text


def _build(rules: RuleSet) -> tuple[list[object], int]:
    """The atoms of a build, and how far its traced memory peaked over what it kept."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        built = index.build_index(rules.rules)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return list(built.atoms), peak - kept


def test_term_keys_are_worked_out_a_chunk_of_atoms_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _rules(tmp_path, 400)
    whole, whole_scratch = _build(rules)
    monkeypatch.setattr(index, "CHUNK", 64)
    chunked, chunked_scratch = _build(rules)
    assert chunked == whole  # the same patterns, phrases and shared words across chunks too
    # The keys' scratch of one chunk alive at a time, not of every term word at once.
    assert chunked_scratch < 0.6 * whole_scratch


def test_matches_are_the_same_whatever_the_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = _rules(tmp_path, 300)
    it = item("Alpha3 and gamma2 delta17; beta250 but omega1", "Beta77, gamma4 delta299.")
    whole = fired(Matcher(rules), it)
    monkeypatch.setattr(index, "CHUNK", 5)
    assert fired(Matcher(rules), it) == whole
    assert whole  # the item fires some


def test_a_matcher_keeps_no_dict_of_watch_ids_until_a_tool_asks(tmp_path: Path) -> None:
    # A shard's worker finds rules by id in the rule set: the index keeps no second dict.
    rules = _rules(tmp_path, 50)
    matcher = Matcher(rules)
    it = item("beta7 and alpha0")
    assert "w7" in fired(matcher, it)
    assert matcher._position is None and not hasattr(matcher.index, "position")
    assert matcher.rule("w7") is rules.rules[7]
    assert matcher.match_rule("w7", it) is not None  # the tools' ask: numbered then
    assert matcher.match_rule("w8", it) is None


def test_the_build_gives_freed_tables_back_as_it_registers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Growing tables free their old hash tables in the C heap, resident until given back:
    # at the build's end they were a 250k-watch shard's peak (bench/shards.py).
    calls: list[int] = []
    monkeypatch.setattr(index, "give_back_freed", lambda: bool(calls.append(1)) or True)
    monkeypatch.setattr(index, "GIVE_BACK_EVERY", 64)
    ix = Matcher(_rules(tmp_path)).index
    assert len(ix.atoms) > 640
    assert len(calls) >= len(ix.atoms) // 64  # while registering, not only between steps
