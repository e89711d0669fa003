"""The rules engine: one matcher for every watch of a rule set (its language: ``alerts.rules``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alerts.lazy import lazy_exports
from alerts.models import Alert, Hit, Item, Match, assert_unvalidated, constructed

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
        values = {
            "watch": rule.id,
            "watch_name": rule.name,
            "item": item,
            "hits": match.hits,
            "clause": match.clause,
            "ruleset_version": match.ruleset_version or ruleset.version,
            "channels": tuple(rule.notify.channels),
        }
        fast = _kept(values)  # else validated, as ever
        alerts.append(constructed(Alert, values, set(_ALERT_FIELDS)) if fast else Alert(**values))
    return alerts


_ALERT_FIELDS = frozenset(Alert.model_fields)
# The values above name every field, in order: a field added to Alert must be added there too
# (else a fast-path alert would lack it).
assert tuple(Alert.model_fields) == (
    "watch", "watch_name", "item", "hits", "clause", "ruleset_version", "channels"
)  # fmt: skip
assert_unvalidated(Alert)


def _kept(values: dict[str, Any]) -> bool:
    """Whether validation keeps an alert's values as they are: each of the exact type its
    field holds (a tuple of Hits, a tuple of str). Then the alert is made without it."""
    return (
        type(values["watch"]) is str
        and type(values["watch_name"]) is str
        and type(values["item"]) is Item
        and type(values["clause"]) is str
        and type(values["ruleset_version"]) is str
        and type(values["hits"]) is tuple
        and type(values["channels"]) is tuple
        and all(type(hit) is Hit for hit in values["hits"])
        and all(type(name) is str for name in values["channels"])
    )
