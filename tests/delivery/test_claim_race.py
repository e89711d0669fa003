"""A twin task that read the row before its sibling sent must not send again (found by chaos)."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.clock import FrozenClock
from alerts.delivery import build_deps, deliver
from alerts.delivery.ledger import DeliveryRow, row_id
from alerts.delivery.pipeline import send_and_record
from alerts.models import Alert, Item
from alerts.notify.fake import RecordingNotifier
from alerts.settings import load_settings

NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


def test_stale_twin_after_a_completed_send_is_a_duplicate() -> None:
    settings = load_settings(channels={"slack": "console://"})
    notifier = RecordingNotifier()
    deps = build_deps(settings, None, notifier, FrozenClock(NOW))
    item = Item(id="i1", source="s", title="Ceasefire holds", body="A ceasefire.")
    alert = Alert(watch="w", watch_name="W", item=item, hits=(), channels=("slack",))
    stale = DeliveryRow.new(alert, "slack", NOW)  # what the twin read before the first send

    assert deliver(alert, "slack", deps=deps).status == "sent"
    outcome = send_and_record(deps, stale, None)

    assert outcome.status == "duplicate"
    assert len(notifier.sent) == 1
    row = deps.store.ledger.get(row_id(alert.delivery_key("slack")))
    assert row is not None and row.status == "sent" and not row.possible_duplicate
