"""The steps the workers run, as plain functions over frozen values (no Celery here)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from alerts.ingest import parse_bulletin
from alerts.ingest.dedup import ItemArchive, SeenStore
from alerts.matching import Matcher, RuleSet, build_alerts
from alerts.models import Alert, Item


def new_items(
    data: bytes,
    *,
    source: str,
    content_type: str | None,
    seen: SeenStore,
    received: datetime | None = None,
    language: str | None = None,
) -> list[Item]:
    """Parse a bulletin and keep the items not ingested before (``language``: the source's)."""
    items = parse_bulletin(data, source=source, content_type=content_type, language=language)
    return fresh(items, seen, received=received)


def fresh(
    items: Sequence[Item], seen: SeenStore, *, received: datetime | None = None
) -> list[Item]:
    """The items whose ids were never ingested, once each, in order.

    An item without a date (a plain-text bulletin has none) is dated ``received``, so its
    alert says when it came in rather than "time unknown".
    """
    unique = list({item.id: item for item in items}.values())
    unseen = set(seen.unseen([item.id for item in unique]))
    return [_dated(item, received) for item in unique if item.id in unseen]


def _dated(item: Item, received: datetime | None) -> Item:
    if item.published is not None or received is None:
        return item
    return item.model_copy(update={"published": received})


def remember(
    items: Sequence[Item], *, seen: SeenStore, archive: ItemArchive, now: datetime
) -> None:
    """Mark items seen (after their deliveries are recorded, so a crash loses nothing)."""
    archive.add(items, now)
    seen.mark_seen([item.id for item in items], now)


def alerts_for(items: Sequence[Item], ruleset: RuleSet, matcher: Matcher) -> list[Alert]:
    """Every alert that the current rule set raises on these items."""
    out: list[Alert] = []
    for item in items:
        out.extend(build_alerts(ruleset, item, matcher.match(item)))
    return out


def batches(items: Sequence[Item], size: int) -> Iterator[list[Item]]:
    """Split items into lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
