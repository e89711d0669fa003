"""The language loads rules on its own: the engine's word split and examples are handed in."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.models import Item, Match
from alerts.rules import RuleSet, RuleSetError
from alerts.rules.compile import Words
from alerts.rules.examples import ExampleFailure, check_examples
from alerts.rules.loader import ExampleRun, load_rules
from tests.matching.helpers import write_rules

WATCH = """\
id: kaluga
any: [Kaluga, "«»"]
notify: {channels: [email]}
examples:
  match: [Kaluga region]
  no_match: [Tula region]
"""


def _letters(text: str) -> list[str]:
    """A stand-in for the engine's word split: runs of letters."""
    return "".join(c if c.isalnum() else " " for c in text).split()


def _errors(rules_dir: Path, words: Words, examples: ExampleRun | None) -> list[str]:
    with pytest.raises(RuleSetError) as info:
        load_rules(rules_dir, words=words, examples=examples)
    return [str(e).replace(f"{rules_dir}/", "") for e in info.value.errors]


def test_the_injected_word_split_decides_which_terms_have_words(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, kaluga__yaml=WATCH)
    assert _errors(rules_dir, words=_letters, examples=None) == [
        "kaluga.yaml:2:15: term '«»' has no words to match"
    ]
    ruleset = load_rules(rules_dir, words=lambda text: ["w"], examples=None)
    assert [r.id for r in ruleset.rules] == ["kaluga"]


def test_each_failure_the_runner_returns_is_located_at_its_example(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, kaluga__yaml=WATCH.replace(', "«»"', ""))
    seen: list[RuleSet] = []

    def run(ruleset: RuleSet) -> list[ExampleFailure]:
        seen.append(ruleset)
        return [ExampleFailure("kaluga", "no_match", 0, "should not match")]

    assert _errors(rules_dir, words=_letters, examples=run) == [
        "kaluga.yaml:6:14: should not match"
    ]
    assert [r.id for r in seen[0].rules] == ["kaluga"]


class _Says:
    """A matcher that answers one way for every example: fires on titles holding a word."""

    def __init__(self, word: str) -> None:
        self.word = word

    def match_rule(self, rule_id: str, item: Item) -> Match | None:
        fires = self.word in item.title
        return (
            Match(watch=rule_id, item_id=item.id, ruleset_version="", clause="") if fires else None
        )


def test_check_examples_needs_only_a_match_rule(tmp_path: Path) -> None:
    rules_dir = write_rules(tmp_path, kaluga__yaml=WATCH.replace(', "«»"', ""))
    (rule,) = load_rules(rules_dir, words=_letters, examples=None).rules
    assert check_examples(_Says("Kaluga"), rule) == []
    (fail,) = check_examples(_Says("region"), rule)
    assert (fail.kind, fail.index) == ("no_match", 0)
    assert fail.message.startswith("example 'Tula region' should not match watch 'kaluga'")
