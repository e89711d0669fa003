"""Pure views for the pages: watch rows, term forms, highlighted hits, matches per day."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts.matching import Matcher
from alerts.matching.variants import spellings, term_key_tuples
from alerts.models import Item, Match
from alerts.notify.view import Segment, highlight
from alerts.rules import Rule, RuleSet
from alerts.rules.examples import check_examples
from alerts.rules.tree import Node, Term

_WORD = re.compile(r"\w+", re.UNICODE)
Stamped = Sequence[tuple[datetime, Item]]  # (ingest time, item), from the archive


@dataclass(frozen=True)
class TermForms:
    """One term of a watch and what the engine finds for it."""

    term: str
    kind: str
    spellings: tuple[str, ...]  # the words as written in each script
    keys: tuple[str, ...]  # word keys: any inflection with the same key matches


@dataclass(frozen=True)
class HitRow:
    """One hit, explained: field, term, the form found, offsets, how it was found."""

    field: str
    term: str
    form: str
    start: int
    end: int
    how: str = ""


@dataclass(frozen=True)
class MatchView:
    """A watch that fired on an item: the clause, hits explained, fields highlighted."""

    watch: str
    clause: str
    hits: tuple[HitRow, ...]
    fields: tuple[tuple[str, tuple[Segment, ...]], ...]


@dataclass(frozen=True)
class DayCount:
    """Items a watch matched on one day, with a few samples."""

    day: str
    count: int
    samples: tuple[Item, ...]


def leaves(node: Node) -> list[Term]:
    """Every term of a condition tree, in order."""
    if isinstance(node, Term):
        return [node]
    children: Iterable[Node] = getattr(node, "children", None) or getattr(node, "terms", None) or ()
    child = getattr(node, "child", None)
    out = [t for c in children for t in leaves(c)]
    return out + (leaves(child) if child is not None else [])


def term_forms(rule: Rule) -> list[TermForms]:
    """What each term of a watch expands to (exact terms and regexes match as written)."""
    out: list[TermForms] = []
    for term in dict.fromkeys(leaves(rule.tree)):
        words = [w.lower() for w in _WORD.findall(term.text)]
        if term.kind == "regex" or term.exact or not words:
            out.append(TermForms(term.render(), term.kind, (term.text,), ()))
            continue
        keys = term_key_tuples(words)
        forms = sorted({s for w in words for s in spellings(w)})
        out.append(
            TermForms(
                term.render(), term.kind, tuple(forms), tuple(k for w in words for k in keys[w])
            )
        )
    return out


def explain(item: Item, match: Match) -> MatchView:
    """One match made readable: its hits as rows and each hit field with the hits marked."""
    rows = tuple(
        HitRow(h.field, h.term, h.text, h.start, h.end, ", ".join(h.how).replace("_", " "))
        for h in match.hits
    )
    fields = []
    for name in dict.fromkeys(h.field for h in match.hits):
        text = item.field_text(name)
        spans = [(h.start, h.end) for h in match.hits if h.field == name]
        fields.append((name, tuple(highlight(text, spans))))
    return MatchView(match.watch, match.clause, rows, tuple(fields))


def examples_passing(matcher: Matcher, rule: Rule) -> tuple[int, int]:
    """(passing, total) examples of a watch."""
    total = len(rule.examples.match) + len(rule.examples.no_match)
    return total - len(check_examples(matcher, rule)), total


def match_counts(
    ruleset: RuleSet, watches_of: Callable[[Item], Sequence[str]], stamped: Stamped, now: datetime
) -> dict[str, tuple[int, int]]:
    """Per watch, the archived items it matches from the last 24 hours and the last 7 days."""
    day, week = now - timedelta(days=1), now - timedelta(days=7)
    counts = {rule.id: [0, 0] for rule in ruleset.rules}
    for when, item in stamped:
        if when < week:
            continue
        for watch in watches_of(item):
            counts[watch][1] += 1
            counts[watch][0] += when >= day
    return {watch: (c[0], c[1]) for watch, c in counts.items()}


def memo_matches(
    matcher: Matcher, memo: dict[str, tuple[str, ...]]
) -> Callable[[Item], Sequence[str]]:
    """The watches an item matches, remembered by item id (an archived item never changes)."""

    def watches_of(item: Item) -> tuple[str, ...]:
        found = memo.get(item.id)
        if found is None:
            found = memo[item.id] = tuple(m.watch for m in matcher.match(item))
        return found

    return watches_of


def per_day(
    matcher: Matcher, stamped: Stamped, now: datetime, days: int, samples: int = 3
) -> dict[str, list[DayCount]]:
    """Per watch, the items matched on each of the last ``days`` days (oldest first)."""
    start = (now - timedelta(days=days - 1)).date()
    names = [(start + timedelta(days=n)).isoformat() for n in range(days)]
    found: dict[str, dict[str, list[Item]]] = {rule.id: {} for rule in matcher.ruleset.rules}
    for when, item in stamped:
        if when.date() < start:
            continue
        for match in matcher.match(item):
            found.setdefault(match.watch, {}).setdefault(when.date().isoformat(), []).append(item)
    return {
        watch: [
            DayCount(d, len(by_day.get(d, [])), tuple(by_day.get(d, [])[:samples])) for d in names
        ]
        for watch, by_day in found.items()
    }
