"""``Matcher``: one index for every watch; an item is prepared once, candidates evaluated."""

from __future__ import annotations

from alerts.matching.document import Document, prepare
from alerts.matching.evaluate import fire
from alerts.matching.index import build_index
from alerts.matching.ruleset import Rule, RuleSet
from alerts.matching.scan import Occurrence, Occurrences, candidates
from alerts.models import FIELDS, Hit, Item, Match


class Matcher:
    """Matches items against every watch of a rule set at once."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.index = build_index(ruleset.rules)
        self._position = {rule.id: i for i, (rule, _) in enumerate(self.index.watches)}

    def _occurrences(self, item: Item) -> Occurrences:
        doc = prepare(item, self.index.fields, fuzzy=self.index.fuzzy)
        return Occurrences(self.index, doc)

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
        return self._evaluate(self._position[rule_id], item, self._occurrences(item))

    def _evaluate(self, i: int, item: Item, occ: Occurrences) -> Match | None:
        rule, compiled = self.index.watches[i]
        if (rule.sources or rule.languages) and not rule.accepts(item.source, item.language):
            return None
        evidence: list[tuple[str, Occurrence]] = []
        clause = fire(compiled, occ, evidence)
        if clause is None:
            return None
        return Match.trusted(
            rule.id, item.id, self.ruleset.version, clause, _hits(evidence, occ.doc)
        )

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        return self.index.watches[self._position[rule_id]][0]


def _hits(evidence: list[tuple[str, Occurrence]], doc: Document) -> tuple[Hit, ...]:
    """One Hit per span (the first term to claim it), in field and offset order."""
    seen: dict[tuple[int, int, int], Hit] = {}
    made = doc.hits  # watches of one item share atoms: their Hits are made once
    for pair in evidence:
        found = made.get(pair)
        if found is None:
            found = made[pair] = _hit(pair, doc)
        if found[0] not in seen:
            seen[found[0]] = found[1]
    return tuple(seen[k] for k in sorted(seen))


def _hit(pair: tuple[str, Occurrence], doc: Document) -> tuple[tuple[int, int, int], Hit]:
    term, (number, a, b, kind) = pair
    ft = doc.fields[number]
    if kind == 0 or kind == 3:
        first = a - doc.start[number]
        start, end = ft.token_span(first, first + b - 1)
    elif kind == 1:
        start, end = ft.original_span(a, b)
    else:
        start, end = a, b
    hit = Hit.trusted(term, FIELDS[number], start, end, ft.text[start:end])
    return (number, start, end), hit
