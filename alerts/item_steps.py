"""What happens to items before delivery: parse (counted), keep the fresh, match, remember."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import datetime

from alerts.ingest import ParseError, dedup
from alerts.ingest.dedup import ItemArchive, SeenStore
from alerts.ingest.parse import parse_bulletin_as
from alerts.matching import Matcher, build_alerts
from alerts.models import Alert, Item
from alerts.observe import metrics
from alerts.rules import RuleSet


def new_items(
    data: bytes,
    *,
    source: str,
    content_type: str | None,
    seen: SeenStore,
    received: datetime | None = None,
    language: str | None = None,
) -> list[Item]:
    """Parse a bulletin (counted in the metrics) and keep the items not ingested before
    (``language``: the source's)."""
    items = parse_counted(data, source=source, content_type=content_type, language=language)
    return fresh(items, seen, received=received)


def parse_counted(
    data: bytes, *, source: str, content_type: str | None, language: str | None = None
) -> list[Item]:
    """``parse_bulletin``, with its items (or its failure) counted by source and the format
    it parsed as."""
    label = metrics.source_label(source)
    try:
        items, fmt = parse_bulletin_as(
            data, source=source, content_type=content_type, language=language
        )
    except ParseError:
        metrics.parse_error(label)
        raise
    metrics.items_parsed(label, fmt, len(items))
    return items


def counted(items: Sequence[Item], *, source: str, fmt: str) -> list[Item]:
    """Items parsed elsewhere (the API, once), counted here like ``parse_counted`` counts."""
    metrics.items_parsed(metrics.source_label(source), fmt, len(items))
    return list(items)


def fresh(
    items: Sequence[Item], seen: SeenStore, *, received: datetime | None = None
) -> list[Item]:
    """The items whose ids were never ingested, once each, in order.

    An item without a date (a plain-text bulletin has none) is dated ``received``, so its
    alert says when it came in rather than "time unknown".
    """
    unique = once_each(items, received=received)
    unseen = set(seen.unseen([item.id for item in unique]))
    return [item for item in unique if item.id in unseen]


def once_each(items: Sequence[Item], *, received: datetime | None = None) -> list[Item]:
    """``fresh`` without the seen check (the write makes it: ``handoff_commit.write``, with
    ``check``)."""
    return [_dated(item, received) for item in {item.id: item for item in items}.values()]


def _dated(item: Item, received: datetime | None) -> Item:
    if item.published is not None or received is None:
        return item
    return item.model_copy(update={"published": received})


def remember(
    items: Sequence[Item], *, seen: SeenStore, archive: ItemArchive, now: datetime
) -> None:
    """Mark items seen (after their deliveries are recorded, so a crash loses nothing)."""
    dedup.remember(items, seen=seen, archive=archive, now=now)


def alerts_for(items: Sequence[Item], ruleset: RuleSet, matcher: Matcher) -> list[Alert]:
    """Every alert that the current rule set raises on these items.

    Match times are taken per item but recorded once the batch is done (``metrics.matched``).
    """
    out, took = timed_alerts(items, ruleset, matcher)
    metrics.matched(took, (alert.watch for alert in out))
    return out


def timed_alerts(
    items: Sequence[Item], ruleset: RuleSet, matcher: Matcher
) -> tuple[list[Alert], list[float]]:
    """``alerts_for`` without recording the metrics: the alerts, and each item's match time
    (for a caller that learns only later which items count: ``handoff.hand_on``)."""
    out: list[Alert] = []
    took: list[float] = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        matches = matcher.match(item)
        took.append(clock() - start)
        out.extend(build_alerts(ruleset, item, matches))
    return out, took


def batches(items: Sequence[Item], size: int) -> Iterator[list[Item]]:
    """Split items into lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
