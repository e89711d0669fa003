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
    deps = build_deps(settings.delivery, None, notifier, FrozenClock(NOW))
    item = Item(id="i1", source="s", title="Ceasefire holds", body="A ceasefire.")
    alert = Alert(watch="w", watch_name="W", item=item, hits=(), channels=("slack",))
    stale = DeliveryRow.new(alert, "slack", NOW)  # what the twin read before the first send

    assert deliver(alert, "slack", deps=deps).status == "sent"
    outcome = send_and_record(deps, stale, None)

    assert outcome.status == "duplicate"
    assert len(notifier.sent) == 1
    row = deps.store.ledger.get(row_id(alert.delivery_key("slack")))
    assert row is not None and row.status == "sent" and not row.possible_duplicate


def test_a_stale_write_never_demotes_a_sent_row(redis_client) -> None:  # type: ignore[no-untyped-def]
    """The reconciler re-saves rows it read earlier; that must not undo ``sent`` (chaos)."""
    from alerts.delivery import redis_store

    settings = load_settings(channels={"slack": "console://"})
    for store_deps in (
        build_deps(settings.delivery, None, RecordingNotifier(), FrozenClock(NOW)),
        build_deps(settings.delivery, redis_client, RecordingNotifier(), FrozenClock(NOW)),
    ):
        ledger = store_deps.store.ledger
        item = Item(id="i2", source="s", title="Ceasefire", body="A ceasefire.")
        alert = Alert(watch="w", watch_name="W", item=item, hits=(), channels=("slack",))
        pending = DeliveryRow.new(alert, "slack", NOW)
        assert ledger.save(pending)
        assert ledger.save(pending.moved("sent", NOW))
        assert not ledger.save(pending)  # the stale pending copy is refused
        row = ledger.get(pending.id)
        assert row is not None and row.status == "sent"
        assert ledger.save(pending, force=True)  # an operator's replay may
    assert redis_store  # the Redis store was exercised through build_deps


def test_an_item_is_never_a_follow_up_of_the_story_it_started() -> None:
    """Two channels' tasks race: the second finds the story the first just started for the
    same item; it must not be treated as a follow-up (held for a digest)."""
    from alerts.delivery.minhash import signature
    from alerts.delivery.stages import assign_story

    settings = load_settings(channels={"slack": "console://", "email": "console://"})
    deps = build_deps(settings.delivery, None, RecordingNotifier(), FrozenClock(NOW))
    item = Item(id="i3", source="s", title="Envoys meet on a ceasefire plan", body="Talks.")
    alert = Alert(watch="w", watch_name="W", item=item, hits=(), channels=("slack", "email"))
    first = assign_story(alert, NOW, deps)
    # the other channel's task looked before the assignment, then searches the bands
    deps.store.stories.items.clear()  # type: ignore[attr-defined]
    second = assign_story(alert, NOW, deps)
    assert second.id == first.id
    assert not first.followup and not second.followup
    assert signature(item)  # the signature path was taken
