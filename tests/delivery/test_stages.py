"""Each stage alone, under a frozen clock, over the memory store."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import pytest

from alerts.delivery import NotifySpec
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.retry import backoff, should_retry
from alerts.delivery.silences import add_silence
from alerts.delivery.stages import (
    Story,
    assign_story,
    hold,
    ledger_gate,
    pace_wait,
    route,
    silence_reason,
)
from alerts.models import Item
from alerts.rules.notify import QuietHours
from tests.delivery.helpers import T0, make_alert, make_deps

NEW = Story(id="kaluga|item-1", followup=False)
QUIET = QuietHours(start=time(22, 0), end=time(7, 0), tz="Europe/Kyiv")


# route
def test_route_uses_the_spec_or_the_alert_channels():
    assert route(make_alert(channels=("ops",)), "ops", make_deps()) is not None
    assert route(make_alert(channels=("ops",)), "slack", make_deps()) is None
    spec = NotifySpec(channels=("slack",), mode="digest")
    assert route(make_alert(channels=("ops",)), "slack", make_deps(spec=spec)) == spec


# dedup gate
@pytest.mark.parametrize("status", ["sent", "dead", "silenced", "digested"])
def test_gate_stops_final_rows(status):
    row = DeliveryRow.new(make_alert(), "ops", T0).moved(status, T0)
    out = ledger_gate(row, T0, None)
    assert out is not None and out.status == "duplicate"


def test_gate_lets_pending_and_due_retries_through():
    row = DeliveryRow.new(make_alert(), "ops", T0)
    assert ledger_gate(row, T0, None) is None
    later = row.moved("retrying", T0, next_attempt_at=T0 + timedelta(seconds=5))
    assert ledger_gate(later, T0, None).retry_after == 5.0
    assert ledger_gate(later, T0 + timedelta(seconds=5), None) is None


def test_gate_says_retry_while_another_worker_holds_the_claim():
    out = ledger_gate(DeliveryRow.new(make_alert(), "ops", T0), T0, 7.5)
    assert out is not None and out.status == "retry" and out.retry_after == 7.5


# silence
def test_mute_until_and_stored_silences():
    spec = NotifySpec(channels=("ops",), mute_until=T0 + timedelta(hours=1))
    deps = make_deps()
    assert "muted until" in silence_reason(make_alert(), "ops", spec, T0, deps)
    assert silence_reason(make_alert(), "ops", spec, T0 + timedelta(hours=1), deps) is None
    s = add_silence(deps.store.silences, "kaluga", timedelta(hours=2), T0, channel="ops")
    plain = NotifySpec(channels=("ops", "slack"))
    assert silence_reason(make_alert(), "ops", plain, T0, deps) == f"silence {s.id}"
    assert silence_reason(make_alert(), "slack", plain, T0, deps) is None
    assert silence_reason(make_alert(watch="other"), "ops", plain, T0, deps) is None


# stories
def story_alert(n: int, title: str, source: str = "wire", body: str = "No details yet."):
    alert = make_alert(n)
    item = Item(id=f"item-{n}", source=source, title=title, body=body)
    return alert.model_copy(update={"item": item})


def test_the_same_story_from_another_source_is_a_followup():
    deps = make_deps()
    first = story_alert(
        1,
        "Drone attack on oil depot in Kaluga region, governor says",
        body="A drone struck an oil depot near Kaluga overnight, the regional governor said.",
    )
    again = story_alert(
        2,
        "Drone attack hits oil depot in Kaluga region, governor says",
        "tass",
        body="Drones struck an oil depot near Kaluga overnight, the governor said.",
    )
    other = story_alert(3, "Parliament passes budget amendment after long debate")
    assert assign_story(first, T0, deps) == Story(id=first.key, followup=False)
    assert assign_story(again, T0, deps) == Story(id=first.key, followup=True)
    assert assign_story(other, T0, deps) == Story(id=other.key, followup=False)
    assert assign_story(again, T0, deps) == Story(id=first.key, followup=True)  # remembered


def test_stories_end_with_their_window():
    deps = make_deps(story_window_seconds=600)
    assign_story(story_alert(1, "Drone attack on oil depot in Kaluga region"), T0, deps)
    late = story_alert(2, "Drone attack on oil depot in Kaluga region")
    assert not assign_story(late, T0 + timedelta(seconds=601), deps).followup


# hold
def test_digest_mode_holds_until_the_schedule():
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="daily at 08:00 Europe/Kyiv")
    got = hold(make_alert(), "ops", spec, NEW, T0, make_deps())
    assert (got.reason, got.outcome) == ("digest", "digested")
    assert got.due == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)


def test_quiet_hours_hold_until_they_end():
    spec = NotifySpec(channels=("ops",), quiet_hours=QUIET)
    night = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)  # 23:00 in Kyiv
    got = hold(make_alert(), "ops", spec, NEW, night, make_deps())
    assert got.reason == "quiet_hours" and got.due == datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert hold(make_alert(), "ops", spec, NEW, T0, make_deps()) is None  # 14:00 in Kyiv


def test_critical_bypasses_digest_quiet_hours_and_throttle():
    spec = NotifySpec(
        channels=("ops",), mode="digest", quiet_hours=QUIET, priority="critical", throttle="1/1h"
    )
    night = datetime(2026, 3, 2, 21, 0, tzinfo=UTC)
    deps = make_deps()
    assert [hold(make_alert(n), "ops", spec, NEW, night, deps) for n in range(3)] == [None] * 3


def test_throttle_overflow_is_held_until_the_window_ends():
    spec = NotifySpec(channels=("ops",), throttle="2/1h")
    deps = make_deps()
    got = [hold(make_alert(n), "ops", spec, NEW, T0 + timedelta(minutes=n), deps) for n in range(3)]
    assert got[:2] == [None, None]
    assert (got[2].reason, got[2].outcome, got[2].due) == (
        "throttled",
        "throttled",
        T0 + timedelta(hours=1),
    )
    assert hold(make_alert(0), "ops", spec, NEW, T0, deps) is None  # a redelivery re-admits
    assert (
        hold(make_alert(9), "ops", spec, NEW, T0 + timedelta(hours=1), deps) is None
    )  # new window


def test_a_followup_without_a_thread_waits_for_the_digest_else_goes_threaded():
    spec = NotifySpec(channels=("slack",))
    deps = make_deps()
    follow = Story(id="kaluga|item-1", followup=True)
    got = hold(make_alert(2), "slack", spec, follow, T0, deps)
    assert got.reason == "story" and got.due == T0 + timedelta(hours=1)
    threaded = Story(id="kaluga|item-1", followup=True, thread="1700000000.000100")
    assert hold(make_alert(2), "slack", spec, threaded, T0, deps) is None


# pace
def test_pacing_is_per_channel_and_can_be_limited_to_some_channels():
    deps = make_deps(pace_rate=1.0, pace_burst=1)
    assert pace_wait("slack", "a", T0, deps) == 0.0
    assert pace_wait("slack", "b", T0, deps) == 1.0
    assert pace_wait("ops", "b", T0, deps) == 0.0
    only_slack = make_deps(pace_rate=1.0, pace_burst=1, paced_channels=("slack",))
    assert [pace_wait("ops", str(n), T0, only_slack) for n in range(3)] == [0.0] * 3


# retry policy
def test_full_jitter_backoff_is_bounded_and_seeded():
    rng = random.Random(1)
    delays = [backoff(a, base=2, cap=60, rng=rng) for a in range(1, 10)]
    assert all(0 <= d <= min(60, 2 * 2 ** (a - 1)) for a, d in enumerate(delays, 1))
    again = [backoff(a, base=2, cap=60, rng=random.Random(1)) for a in range(1, 2)]
    assert again == delays[:1]
    assert backoff(1, base=2, cap=60, rng=rng, retry_after=30) >= 30


def test_should_retry():
    assert should_retry(1, 3, retryable=True)
    assert not should_retry(3, 3, retryable=True)
    assert not should_retry(1, 3, retryable=False)


def test_channel_silence_mutes_every_watch_on_that_channel():
    deps = make_deps()
    s = add_silence(deps.store.silences, None, timedelta(hours=1), T0, channel="ops")
    plain = NotifySpec(channels=("ops", "slack"))
    assert silence_reason(make_alert(watch="other"), "ops", plain, T0, deps) == f"silence {s.id}"
    assert silence_reason(make_alert(), "slack", plain, T0, deps) is None


def test_a_story_silence_waits_for_the_story_and_mutes_only_it():
    deps = make_deps()
    s = add_silence(deps.store.silences, "kaluga", timedelta(hours=1), T0, story="kaluga|item-1")
    plain = NotifySpec(channels=("ops",))
    assert silence_reason(make_alert(), "ops", plain, T0, deps) is None  # story not known yet
    muted = silence_reason(make_alert(), "ops", plain, T0, deps, "kaluga|item-1")
    assert muted == f"silence {s.id}"
    assert silence_reason(make_alert(), "ops", plain, T0, deps, "kaluga|item-9") is None


def test_a_silence_needs_a_watch_a_channel_or_a_story():
    with pytest.raises(ValueError, match="a watch, a channel or a story"):
        add_silence(make_deps().store.silences, None, timedelta(hours=1), T0)
