"""``load_ruleset``: the rule language's loader, with the engine's word split and examples."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

from alerts.matching.matcher import Matcher
from alerts.matching.text import words
from alerts.rules.examples import ExampleFailure, check_examples
from alerts.rules.loader import load_rules
from alerts.rules.ruleset import RuleSet


def load_ruleset(
    rules_dir: Path,
    *,
    channels: Collection[str] | None = None,
    examples: bool = True,
    keep: Callable[[str], bool] | None = None,
) -> RuleSet:
    """Load every rule file of ``rules_dir``, or raise RuleSetError listing every problem.

    ``channels=None`` skips the channel check; ``examples=False`` skips running examples;
    ``keep`` (a shard's test of a watch id) keeps only those watches, once all are checked.
    """
    run = run_examples if examples else None
    return load_rules(rules_dir, words=words, examples=run, channels=channels, keep=keep)


def run_examples(ruleset: RuleSet) -> list[ExampleFailure]:
    """Every failing example of the rule set's watches, run on a real matcher."""
    # A watch fires on its own terms alone, so an index of the watches that have examples
    # answers for them as the full one would, without building every watch a second time.
    tested = tuple(r for r in ruleset.rules if r.examples.match or r.examples.no_match)
    if not tested:
        return []
    matcher = Matcher(RuleSet(tested, ruleset.version))
    return [fail for rule in tested for fail in check_examples(matcher, rule)]
