"""Backtest: replay archived items through a candidate rule set and count would-be alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from alerts.matching.matcher import Matcher
from alerts.models import Item
from alerts.rules.ruleset import RuleSet


@dataclass(frozen=True)
class Sample:
    """One item a watch would have alerted on."""

    item_id: str
    title: str
    clause: str


@dataclass(frozen=True)
class WatchReport:
    """How many alerts one watch would have sent, with a few samples."""

    watch: str
    name: str
    channels: tuple[str, ...]
    alerts: int
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class BacktestReport:
    """The result of replaying items through a rule set."""

    ruleset_version: str
    items: int
    watches: tuple[WatchReport, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "ruleset_version": self.ruleset_version,
            "items": self.items,
            "watches": [
                {
                    "watch": w.watch,
                    "name": w.name,
                    "channels": list(w.channels),
                    "alerts": w.alerts,
                    "samples": [s.__dict__ for s in w.samples],
                }
                for w in self.watches
            ],
        }


def backtest(
    ruleset: RuleSet,
    items: Iterable[Item],
    *,
    samples: int = 3,
    on_item: Callable[[], None] | None = None,
) -> BacktestReport:
    """Match every item; per watch, count the alerts and keep the first ``samples``."""
    matcher = Matcher(ruleset)
    counts = {rule.id: 0 for rule in ruleset.rules}
    kept: dict[str, list[Sample]] = {rule.id: [] for rule in ruleset.rules}
    seen = 0
    for item in items:
        seen += 1
        for match in matcher.match(item):
            counts[match.watch] += 1
            if len(kept[match.watch]) < samples:
                kept[match.watch].append(Sample(item.id, item.title, match.clause))
        if on_item is not None:
            on_item()
    reports = tuple(
        WatchReport(r.id, r.name, tuple(r.notify.channels), counts[r.id], tuple(kept[r.id]))
        for r in ruleset.rules
    )
    return BacktestReport(ruleset.version, seen, reports)
