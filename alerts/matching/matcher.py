"""``Matcher``: one index for every watch; an item is scanned once, candidates evaluated."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from alerts.matching.document import Document, prepare
from alerts.matching.evaluate import Occurrence, collect, holds
from alerts.matching.index import Index, build_index
from alerts.matching.ruleset import Rule, RuleSet
from alerts.models import FIELDS, Hit, Item, Match

MAX_REGEX_HITS = 50


class _Occurrences(dict[int, list[Occurrence]]):
    """Atom occurrences found by the scan; regex atoms are searched on first use."""

    def __init__(self, index: Index, doc: Document) -> None:
        super().__init__()
        self.index, self.doc = index, doc

    def __missing__(self, atom: int) -> list[Occurrence]:
        pattern = self.index.regexes.get(atom)
        found: list[Occurrence] = []
        if pattern is not None:
            for number, ft in self.doc.fields.items():
                for i, m in enumerate(pattern.finditer(ft.text)):
                    if i >= MAX_REGEX_HITS:
                        break
                    if m.end() > m.start():
                        found.append((number, m.start(), m.end(), 2))
        self[atom] = found
        return found


def _scan(auto: Any, which: str, doc: Document, occ: _Occurrences) -> None:
    if auto is None:
        return
    kind = 0 if which == "fuzzy" else 3
    positions, order = doc.positions[which], doc.order
    limit = doc.compound_at if which == "fuzzy" else 1 << 62
    for end, (length, entries) in auto.iter(getattr(doc, which)):
        pos = end - length + 1
        if pos >= limit:  # a hyphenated compound, appended after the fields
            number, a, b = doc.compound_at_pos(pos)
            for atom, ntok in entries:
                if ntok == 1:
                    occ.setdefault(atom, []).append((number, a, b, 1))
            continue
        number = order[bisect_right(positions, pos) - 1]
        for atom, ntok in entries:
            occ.setdefault(atom, []).append((number, pos, ntok, kind))


class Matcher:
    """Matches items against every watch of a rule set at once."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.index = build_index(ruleset.rules)
        self._position = {rule.id: i for i, (rule, _) in enumerate(self.index.watches)}

    def _occurrences(self, item: Item) -> _Occurrences:
        doc = prepare(item, self.index.fields, fuzzy=self.index.fuzzy is not None)
        occ = _Occurrences(self.index, doc)
        _scan(self.index.fuzzy, "fuzzy", doc, occ)
        _scan(self.index.exact, "exact", doc, occ)
        return occ

    def match(self, item: Item) -> list[Match]:
        """One Match per watch that fires on the item, in rule-set order."""
        occ = self._occurrences(item)
        candidates = set(self.index.always)
        anchors = self.index.anchors
        for atom in list(occ):
            candidates.update(anchors.get(atom, ()))
        out = []
        for i in sorted(candidates):
            found = self._evaluate(i, item, occ)
            if found is not None:
                out.append(found)
        return out

    def match_rule(self, rule_id: str, item: Item) -> Match | None:
        """The Match of one watch on an item, or None (used to run examples)."""
        return self._evaluate(self._position[rule_id], item, self._occurrences(item))

    def _evaluate(self, i: int, item: Item, occ: _Occurrences) -> Match | None:
        rule, compiled = self.index.watches[i]
        if not rule.accepts(item.source, item.language) or not holds(compiled, occ):
            return None
        evidence: list[tuple[str, Occurrence]] = []
        clause = collect(compiled, occ, evidence)
        return Match.model_construct(
            watch=rule.id,
            item_id=item.id,
            ruleset_version=self.ruleset.version,
            clause=clause,
            hits=_hits(evidence, occ.doc),
        )

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id."""
        return self.index.watches[self._position[rule_id]][0]


def _hits(evidence: list[tuple[str, Occurrence]], doc: Document) -> tuple[Hit, ...]:
    seen: dict[tuple[int, int, int], Hit] = {}
    for term, (number, a, b, kind) in evidence:
        ft = doc.fields[number]
        if kind in (0, 3):
            first = doc.word_at("fuzzy" if kind == 0 else "exact", a)[1]
            start, end = ft.token_span(first, first + b - 1)
        elif kind == 1:
            start, end = ft.original_span(a, b)
        else:
            start, end = a, b
        key = (number, start, end)
        if key not in seen:
            seen[key] = Hit.model_construct(
                term=term, field=FIELDS[number], start=start, end=end, text=ft.text[start:end]
            )
    return tuple(seen[k] for k in sorted(seen))
