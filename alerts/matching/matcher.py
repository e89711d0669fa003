"""``Matcher``: one index for every watch; an item is prepared once, candidates evaluated."""

from __future__ import annotations

from collections.abc import Iterable

from alerts.matching.document import prepare
from alerts.matching.evaluate import Evidence, hits_of
from alerts.matching.index import build_index
from alerts.matching.languages import stem_language
from alerts.matching.langview import view
from alerts.matching.made import new_match
from alerts.matching.scan import Occurrences, candidates, occurrences
from alerts.models import Item, Match
from alerts.rules.ruleset import Rule, RuleSet


class Matcher:
    """Matches items against every watch of a rule set at once."""

    def __init__(self, ruleset: RuleSet, languages: Iterable[str] = ()) -> None:
        """``languages``: item languages expected, whose views of the index are built now,
        so that no item pays for one (another language's view is built on its first item)."""
        self.ruleset = ruleset
        self.version = ruleset.version
        self.index = build_index(ruleset.rules)
        # Watch numbers by id, for the tools that ask for one watch (``match_rule``): made on
        # their first ask. A shard never asks, and its worker looks rules up by id in the
        # rule set already: a second dict of every id would be 7 MiB at 250k watches.
        self._position: dict[str, int] | None = None
        for language in languages:
            view(self.index, stem_language(language))

    def _occurrences(self, item: Item) -> Occurrences:
        index = self.index
        doc = prepare(item, index.fields, fuzzy=index.fuzzy, anchors=index.by_key)
        return occurrences(self.index, doc)

    def match(self, item: Item) -> list[Match]:
        """One Match per watch that fires on the item, in rule-set order."""
        occ = self._occurrences(item)
        out = []
        for i in candidates(self.index, occ.doc, occ):
            found = self._evaluate(i, item, occ)
            if found is not None:
                out.append(found)
        return out

    def match_rule(self, rule_id: str, item: Item) -> Match | None:
        """The Match of one watch on an item, or None (used to run examples)."""
        return self._evaluate(self._number(rule_id), item, self._occurrences(item))

    def _number(self, rule_id: str) -> int:
        """A watch's number (its place in the rule set and the index), by id."""
        if self._position is None:
            self._position = {rule.id: n for n, rule in enumerate(self.ruleset.rules)}
        return self._position[rule_id]

    def _evaluate(self, i: int, item: Item, occ: Occurrences) -> Match | None:
        watch = self.index.watches[i]
        if watch.filtered and not watch.rule.accepts(item.source, item.language):
            return None
        evidence: list[Evidence] = []
        clause = watch.node.fire(occ, evidence)
        if clause is None:
            return None
        return new_match(watch.id, item.id, self.version, clause, hits_of(evidence))

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        return self.ruleset.get(rule_id)
