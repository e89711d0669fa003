"""The rules engine: one matcher for every watch of a rule set (its language: ``alerts.rules``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.lazy import lazy_exports
from alerts.models import Alert, Item, Match

if TYPE_CHECKING:
    from alerts.matching.load import load_ruleset
    from alerts.matching.matcher import Matcher
    from alerts.rules.ruleset import RuleSet

__getattr__, __dir__ = lazy_exports(__name__)
__all__ = ["Matcher", "build_alerts", "load_ruleset"]


def build_alerts(ruleset: RuleSet, item: Item, matches: list[Match]) -> list[Alert]:
    """One Alert per match, carrying the watch's name and notify channels."""
    alerts = []
    for match in matches:
        rule = ruleset.get(match.watch)
        alerts.append(
            Alert(
                watch=rule.id,
                watch_name=rule.name,
                item=item,
                hits=match.hits,
                clause=match.clause,
                ruleset_version=match.ruleset_version or ruleset.version,
                channels=tuple(rule.notify.channels),
            )
        )
    return alerts
