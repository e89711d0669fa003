"""Examples inside rules: short texts a watch must (not) match, run on the engine's matcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerts.models import Item, Match
from alerts.rules.ruleset import Rule
from alerts.rules.spec import ExampleEntry, ExampleSpec


class RuleMatcher(Protocol):
    """The engine's answer for one watch on one item (``alerts.matching.Matcher``)."""

    def match_rule(self, rule_id: str, item: Item) -> Match | None:
        """The Match of watch ``rule_id`` on ``item``, or None."""
        ...


@dataclass(frozen=True)
class ExampleFailure:
    """One example that did not behave: which list, which index, and why."""

    rule: str
    kind: str
    index: int
    message: str


def example_item(entry: ExampleEntry, index: int) -> Item:
    """The made-up item for an example; a plain string fills title, summary and body."""
    spec = ExampleSpec(title=entry, summary=entry, body=entry) if isinstance(entry, str) else entry
    return Item(id=f"example-{index}", **spec.model_dump())


def _label(entry: ExampleEntry) -> str:
    text = entry if isinstance(entry, str) else (entry.title or entry.body or entry.url or "")
    return text if len(text) <= 60 else text[:57] + "..."


def check_examples(matcher: RuleMatcher, rule: Rule) -> list[ExampleFailure]:
    """Every example of one rule that fails, with a readable reason."""
    failures = []
    for kind, entries, want in (
        ("match", rule.examples.match, True),
        ("no_match", rule.examples.no_match, False),
    ):
        for i, entry in enumerate(entries):
            found = matcher.match_rule(rule.id, example_item(entry, i))
            if want and found is None:
                msg = f"example {_label(entry)!r} should match watch {rule.id!r} but does not"
                failures.append(ExampleFailure(rule.id, kind, i, msg))
            elif not want and found is not None:
                hits = ", ".join(repr(t) for t in dict.fromkeys(h.text for h in found.hits))
                msg = f"example {_label(entry)!r} should not match watch {rule.id!r} (hits: {hits})"
                failures.append(ExampleFailure(rule.id, kind, i, msg))
    return failures
