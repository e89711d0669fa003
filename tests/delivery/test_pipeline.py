"""deliver() end to end over the memory store: dedup, retries, dead letters, the crash window."""

from __future__ import annotations

from alerts.clock import FrozenClock
from alerts.delivery import deliver, list_deliveries
from alerts.delivery.ledger import DeliveryRow, row_id
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import CANARY, T0, make_alert, make_deps

TEMP = SendResult(ok=False, retryable=True, error="451 try again later")
PERM = SendResult(ok=False, retryable=False, error="554 rejected")


def drive(deps, alert, channel, clock: FrozenClock, limit: int = 50):
    """Call deliver like Celery would: on retry, wait retry_after and call again."""
    outcomes = []
    for _ in range(limit):
        out = deliver(alert, channel, deps=deps)
        outcomes.append(out)
        if out.status != "retry":
            return outcomes
        clock.advance(seconds=out.retry_after or 0)
    raise AssertionError(f"still retrying: {outcomes[-3:]}")


def test_sends_once_and_a_redelivered_task_is_a_duplicate():
    deps = make_deps()
    alert = make_alert()
    assert deliver(alert, "ops", deps=deps).status == "sent"
    assert deliver(alert, "ops", deps=deps).status == "duplicate"
    assert len(deps.notifier.sent) == 1
    [row] = list_deliveries(deps.store)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 1, T0)


def test_channels_are_independent_rows():
    deps = make_deps()
    alert = make_alert(channels=("ops", "slack"))
    assert deliver(alert, "ops", deps=deps).status == "sent"
    assert deliver(alert, "slack", deps=deps).status == "sent"
    assert sorted(r.channel for r in list_deliveries(deps.store)) == ["ops", "slack"]


def test_unrouted_channel_is_dead_not_sent():
    deps = make_deps()
    out = deliver(make_alert(channels=("ops",)), "slack", deps=deps)
    assert out.status == "dead"
    assert deps.notifier.attempts["slack"] == 0


def test_retryable_failures_end_in_exactly_one_send():
    clock = FrozenClock(T0)
    notifier = RecordingNotifier({"ops": [TEMP, TEMP, TEMP]})
    deps = make_deps(notifier=notifier, clock=clock)
    outcomes = drive(deps, make_alert(), "ops", clock)
    assert [o.status for o in outcomes] == ["retry", "retry", "retry", "sent"]
    assert notifier.attempts["ops"] == 4
    assert len(notifier.sent) == 1
    [row] = list_deliveries(deps.store)
    assert (row.status, row.attempts, row.last_error) == ("sent", 4, "")


def test_permanent_failure_is_dead_after_one_attempt():
    notifier = RecordingNotifier({"ops": [PERM]})
    deps = make_deps(notifier=notifier)
    out = deliver(make_alert(), "ops", deps=deps)
    assert out.status == "dead"
    assert notifier.attempts["ops"] == 1
    [row] = list_deliveries(deps.store, status="dead")
    assert row.last_error == "554 rejected"
    assert deliver(make_alert(), "ops", deps=deps).status == "duplicate"


def test_max_attempts_then_dead():
    clock = FrozenClock(T0)
    notifier = RecordingNotifier({"ops": [TEMP] * 10})
    deps = make_deps(notifier=notifier, clock=clock, max_attempts=3)
    outcomes = drive(deps, make_alert(), "ops", clock)
    assert [o.status for o in outcomes] == ["retry", "retry", "dead"]
    assert notifier.attempts["ops"] == 3


def test_retry_after_is_a_floor_and_an_early_task_waits():
    clock = FrozenClock(T0)
    slow = SendResult(ok=False, retryable=True, retry_after=30.0, error="429")
    notifier = RecordingNotifier({"ops": [slow]})
    deps = make_deps(notifier=notifier, clock=clock, backoff_base=0.01)
    first = deliver(make_alert(), "ops", deps=deps)
    assert first.status == "retry" and first.retry_after == 30.0
    clock.advance(seconds=29)
    early = deliver(make_alert(), "ops", deps=deps)
    assert early.status == "retry" and early.retry_after == 1.0
    assert notifier.attempts["ops"] == 1
    clock.advance(seconds=1)
    assert deliver(make_alert(), "ops", deps=deps).status == "sent"


def test_a_claim_held_by_another_worker_means_retry_not_send():
    deps = make_deps()
    alert = make_alert()
    row = DeliveryRow.new(alert, "ops", T0).moved("sending", T0, attempts=1)
    assert deps.store.ledger.begin_send(row, "other-worker", 60, T0).outcome == "claimed"
    out = deliver(alert, "ops", deps=deps)
    assert out.status == "retry" and out.retry_after == 60
    assert deps.notifier.attempts["ops"] == 0


def test_send_then_crash_window_resends_and_flags_the_row():
    clock = FrozenClock(T0)
    deps = make_deps(clock=clock, lease_seconds=60)
    alert = make_alert()
    rid = row_id(alert.delivery_key("ops"))
    # A worker claimed, wrote "sending", maybe sent, then died before recording.
    row = DeliveryRow.new(alert, "ops", T0).moved("sending", T0, attempts=1)
    assert deps.store.ledger.begin_send(row, "dead-worker", 60, T0).outcome == "claimed"
    assert deliver(alert, "ops", deps=deps).status == "retry"  # lease still held
    clock.advance(seconds=61)
    out = deliver(alert, "ops", deps=deps)
    assert out.status == "sent" and "possible duplicate" in out.detail
    got = deps.store.ledger.get(rid)
    assert got is not None and got.possible_duplicate and got.attempts == 2


def test_a_raising_notifier_does_not_lose_the_alert():
    class Boom:
        def send(self, channel, content, *, reply_to=None):
            raise RuntimeError(f"boom {CANARY}")

    deps = make_deps()
    deps.notifier = Boom()
    out = deliver(make_alert(), "ops", deps=deps)
    assert out.status == "retry"
    assert CANARY not in out.detail


def test_canary_secret_never_reaches_ledger_or_outcome():
    leak = SendResult(
        ok=False, retryable=False, error=f"cannot reach json://127.0.0.1:9/hooks/{CANARY}"
    )
    deps = make_deps(notifier=RecordingNotifier({"slack": [leak]}))
    out = deliver(make_alert(channels=("slack",)), "slack", deps=deps)
    assert out.status == "dead"
    assert CANARY not in out.detail
    rows = list_deliveries(deps.store)
    assert CANARY not in str([r.model_dump(mode="json") for r in rows])
    assert "***" in rows[0].last_error


def test_a_story_silence_records_the_story_s_next_alert_as_silenced():
    from datetime import timedelta

    from alerts.delivery import add_silence

    def alert(n: int, title: str):
        made = make_alert(n, title=title)
        body = "A fuel depot near Lyudinovo caught fire after a drone attack, officials said."
        return made.model_copy(update={"item": made.item.model_copy(update={"body": body})})

    notifier = RecordingNotifier()
    deps = make_deps(notifier=notifier)
    first = alert(1, "Drones hit a fuel depot in the Kaluga region overnight")
    assert deliver(first, "ops", deps=deps).status == "sent"
    story = list_deliveries(deps.store, watch="kaluga")[0].story
    add_silence(deps.store.silences, "kaluga", timedelta(hours=1), T0, story=story)
    again = alert(2, "Drones hit a fuel depot in the Kaluga region overnight again")
    other = make_alert(3, title="Governor opens a new bridge across the Oka river")
    assert deliver(again, "ops", deps=deps).status == "silenced"
    assert deliver(other, "ops", deps=deps).status == "sent"
    row = deps.store.ledger.get(row_id(again.delivery_key("ops")))
    assert row is not None and row.story == story and row.detail.startswith("silence ")
    assert len(notifier.sent) == 2
