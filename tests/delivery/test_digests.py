"""Digests, quiet hours, silences and threads through deliver() under a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from alerts.clock import FrozenClock
from alerts.delivery import NotifySpec, deliver, list_deliveries
from alerts.delivery.digests import due_digests, flush_due_digests
from alerts.delivery.silences import add_silence
from alerts.models import Alert, Digest, Item
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from alerts.observe import metrics
from tests.delivery.helpers import T0, make_alert, make_deps

KYIV_0800 = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
QUIET = {"start": "22:00", "end": "07:00", "tz": "Europe/Kyiv"}


def digests(notifier: RecordingNotifier) -> list[Digest]:
    return [c for _, c, _ in notifier.sent if isinstance(c, Digest)]


def story(n: int, title: str) -> Alert:
    item = Item(id=f"item-{n}", source=f"s{n}", title=title, body="Officials said little more.")
    return make_alert(n).model_copy(update={"item": item})


def test_daily_digest_fires_at_0800_kyiv_with_every_alert_grouped_by_story():
    clock = FrozenClock(T0)
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="daily at 08:00 Europe/Kyiv")
    deps = make_deps(spec=spec, clock=clock)
    alerts = [
        story(1, "Drone attack on oil depot in Kaluga region, governor says"),
        story(2, "Drone attack hits oil depot in Kaluga region, governor says"),
        story(3, "Kaluga city council approves new tram line budget"),
    ]
    assert [deliver(a, "ops", deps=deps).status for a in alerts] == ["digested"] * 3
    assert deps.notifier.sent == []
    clock.now = KYIV_0800 - timedelta(seconds=1)
    assert due_digests(deps, clock.now) == [] and flush_due_digests(deps) == []
    clock.now = KYIV_0800
    assert [o.status for o in flush_due_digests(deps)] == ["sent"]
    [d] = digests(deps.notifier)
    assert d.total == 3 and d.reason == "digest"
    assert [(e.alert.item.id, e.count) for e in d.entries] == [("item-1", 2), ("item-3", 1)]
    clock.advance(days=1)
    assert flush_due_digests(deps) == []


def test_quiet_hours_hold_alerts_and_release_them_at_0700_kyiv():
    clock = FrozenClock(datetime(2026, 3, 2, 21, 0, tzinfo=UTC))  # 23:00 in Kyiv
    deps = make_deps(spec=NotifySpec(channels=("ops",), quiet_hours=QUIET), clock=clock)
    assert deliver(make_alert(1), "ops", deps=deps).status == "digested"
    clock.advance(hours=3)
    assert deliver(make_alert(2), "ops", deps=deps).status == "digested"
    clock.now = datetime(2026, 3, 3, 4, 59, tzinfo=UTC)
    assert flush_due_digests(deps) == []
    clock.now = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    flush_due_digests(deps)
    [d] = digests(deps.notifier)
    assert (d.total, d.reason) == (2, "quiet_hours")
    assert deliver(make_alert(3), "ops", deps=deps).status == "sent"  # daytime again


def test_a_digest_due_in_quiet_hours_waits_for_their_end():
    clock = FrozenClock(datetime(2026, 3, 2, 19, 30, tzinfo=UTC))  # 21:30 in Kyiv
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="hourly", quiet_hours=QUIET)
    deps = make_deps(spec=spec, clock=clock)
    deliver(make_alert(1), "ops", deps=deps)
    clock.now = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # due, but 22:00 in Kyiv
    [out] = flush_due_digests(deps)
    assert out.status == "retry" and "quiet hours" in out.detail
    clock.advance(hours=1)
    assert due_digests(deps, clock.now) == []  # deferred to the end of quiet hours
    clock.now = datetime(2026, 3, 3, 5, 0, tzinfo=UTC)
    assert [o.status for o in flush_due_digests(deps)] == ["sent"]
    assert digests(deps.notifier)[0].total == 1


def test_a_failed_digest_keeps_every_entry_and_a_dead_one_dead_letters_its_rows():
    before = {
        (name, status): counted(name, status)
        for name in ("alerts_digests_total", "alerts_digest_alerts_total")
        for status in ("sent", "retry", "dead")
    }
    clock = FrozenClock(T0)
    temp = SendResult(ok=False, retryable=True, error="451")
    perm = SendResult(ok=False, retryable=False, error="554")
    notifier = RecordingNotifier({"ops": [temp, perm]})
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="hourly")
    deps = make_deps(spec=spec, clock=clock, notifier=notifier)
    for n in range(4):
        deliver(make_alert(n), "ops", deps=deps)
    clock.now = T0 + timedelta(hours=1)
    counted_by = metrics.digest_flushed  # what the use case passes (alerts/usecases/upkeep.py)
    assert flush_due_digests(deps, settled=counted_by)[0].status == "retry"
    deliver(make_alert(9), "ops", deps=deps)  # arrives meanwhile
    clock.advance(hours=1)
    [dead] = flush_due_digests(deps, settled=counted_by)
    assert dead.status == "dead" and "digest of 4" in dead.detail
    assert len(list_deliveries(deps.store, status="dead")) == 4
    clock.advance(hours=1)
    assert [o.status for o in flush_due_digests(deps, settled=counted_by)] == ["sent"]
    assert digests(notifier)[0].total == 1  # the late one, alone: nothing lost, nothing twice
    grew = {key: counted(*key) - was for key, was in before.items()}
    assert grew == {
        ("alerts_digests_total", "sent"): 1, ("alerts_digests_total", "retry"): 1,
        ("alerts_digests_total", "dead"): 1, ("alerts_digest_alerts_total", "sent"): 1,
        ("alerts_digest_alerts_total", "retry"): 0, ("alerts_digest_alerts_total", "dead"): 4,
    }  # fmt: skip


def counted(name: str, status: str) -> float:
    """A digest counter's value for the channel these tests use."""
    value = REGISTRY.get_sample_value(name, {"channel": "ops", "status": status})
    return value or 0.0


def test_a_silenced_alert_is_recorded_not_sent():
    deps = make_deps()
    add_silence(deps.store.silences, "kaluga", timedelta(hours=2), T0, comment="maintenance")
    assert deliver(make_alert(), "ops", deps=deps).status == "silenced"
    assert deps.notifier.sent == []
    [row] = list_deliveries(deps.store)
    assert row.status == "silenced" and row.detail.startswith("silence ")


def test_followups_are_threaded_under_the_first_message():
    notifier = RecordingNotifier({"slack": [SendResult(ok=True, thread_ref="1700000000.000100")]})
    deps = make_deps(notifier=notifier)
    first = story(1, "Drone attack on oil depot in Kaluga region, governor says")
    again = story(2, "Drone attack hits oil depot in Kaluga region, governor says")
    first = first.model_copy(update={"channels": ("slack",)})
    again = again.model_copy(update={"channels": ("slack",)})
    assert deliver(first, "slack", deps=deps).status == "sent"
    assert deliver(again, "slack", deps=deps).status == "sent"
    assert [reply for _, _, reply in notifier.sent] == [None, "1700000000.000100"]


def test_followups_without_a_thread_are_counted_in_the_next_digest():
    clock = FrozenClock(T0)
    deps = make_deps(clock=clock)  # the recording notifier returns no thread ref
    first = story(1, "Drone attack on oil depot in Kaluga region, governor says")
    assert deliver(first, "ops", deps=deps).status == "sent"
    for n in (2, 3):
        again = story(n, "Drone attack hits oil depot in Kaluga region, governor says")
        assert deliver(again, "ops", deps=deps).status == "digested"
    clock.now = T0 + timedelta(hours=1)
    flush_due_digests(deps)
    [d] = digests(deps.notifier)
    assert d.total == 2 and [e.count for e in d.entries] == [2]


def test_a_digest_retries_with_backoff_then_is_dead_after_max_attempts():
    clock = FrozenClock(T0)
    temp = SendResult(ok=False, retryable=True, error="451")
    notifier = RecordingNotifier({"ops": [temp] * 5})
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="hourly")
    deps = make_deps(spec=spec, clock=clock, notifier=notifier, max_attempts=3)
    deliver(make_alert(1), "ops", deps=deps)
    clock.now = T0 + timedelta(hours=1)
    statuses = []
    for _ in range(3):
        [out] = flush_due_digests(deps)
        statuses.append(out.status)
        clock.advance(seconds=out.retry_after or 0)
    assert statuses == ["retry", "retry", "dead"]
    assert notifier.attempts["ops"] == 3
    assert [r.status for r in list_deliveries(deps.store)] == ["dead"]


def test_rows_of_a_sent_digest_learn_when_it_went_out():
    clock = FrozenClock(T0)
    spec = NotifySpec(channels=("ops",), mode="digest", schedule="hourly")
    deps = make_deps(spec=spec, clock=clock)
    deliver(make_alert(1), "ops", deps=deps)
    assert list_deliveries(deps.store)[0].sent_at is None
    clock.now = T0 + timedelta(hours=1)
    flush_due_digests(deps)
    [row] = list_deliveries(deps.store)
    assert (row.status, row.sent_at) == ("digested", T0 + timedelta(hours=1))
