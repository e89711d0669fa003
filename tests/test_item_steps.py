"""The worker's ingest step: items never seen before, dated when their bulletin had no dates."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.ingest.dedup import MemorySeenStore
from alerts.item_steps import new_items

BULLETIN = b"Two items.\nFirst headline\nFirst body.\nSecond headline\nSecond body.\n"
NOW = datetime(2026, 12, 2, 21, 0, tzinfo=UTC)


def test_undated_items_carry_the_time_they_were_received() -> None:
    items = new_items(
        BULLETIN, source="desk", content_type=None, seen=MemorySeenStore(), received=NOW
    )
    assert items and all(i.published == NOW for i in items)


def test_items_seen_before_are_dropped() -> None:
    seen = MemorySeenStore()
    first = new_items(BULLETIN, source="desk", content_type=None, seen=seen)
    seen.mark_seen([first[0].id], NOW)
    again = new_items(BULLETIN, source="desk", content_type=None, seen=seen)
    assert [i.id for i in again] == [i.id for i in first[1:]]
