"""The reconciler and dead-letter replay, on a real Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.clock import FrozenClock
from alerts.delivery import (
    dead_letters,
    deliver,
    record_pending,
    redis_store,
    replay,
    stale_deliveries,
)
from alerts.delivery.ledger import DeliveryRow, row_id
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps


@pytest.fixture
def clock():
    return FrozenClock(T0)


@pytest.fixture
def deps(redis_client, clock):
    return make_deps(store=redis_store(redis_client), clock=clock, lease_seconds=60)


def test_a_pending_row_whose_task_was_lost_is_requeued_once(deps, clock):
    alert = make_alert()
    record_pending(alert, "ops", deps=deps)
    assert stale_deliveries(deps, clock.now) == []
    clock.advance(seconds=60)
    assert stale_deliveries(deps, clock.now) == [(alert, "ops")]
    assert stale_deliveries(deps, clock.now) == []  # not again while its new task runs
    assert deliver(alert, "ops", deps=deps).status == "sent"
    clock.advance(hours=1)
    assert stale_deliveries(deps, clock.now) == []


def test_a_retrying_row_is_requeued_after_its_next_attempt_and_a_grace(deps, clock):
    deps.notifier = RecordingNotifier(
        {"ops": [SendResult(ok=False, retryable=True, retry_after=10)]}
    )
    alert = make_alert()
    out = deliver(alert, "ops", deps=deps)
    assert out.status == "retry"
    clock.advance(seconds=out.retry_after + 59)
    assert stale_deliveries(deps, clock.now) == []  # Celery's own retry should come first
    clock.advance(seconds=1)
    assert stale_deliveries(deps, clock.now) == [(alert, "ops")]


def test_a_row_left_sending_by_a_dead_worker_is_requeued_and_flagged(deps, clock):
    alert = make_alert()
    row = DeliveryRow.new(alert, "ops", T0).moved(
        "sending", T0, attempts=1, wake_at=T0 + timedelta(seconds=60)
    )
    assert deps.store.ledger.begin_send(row, "dead-worker", 60, T0).outcome == "claimed"
    clock.advance(seconds=60)
    [(again, channel)] = stale_deliveries(deps, clock.now)
    out = deliver(again, channel, deps=deps)
    assert out.status == "sent"
    assert deps.store.ledger.get(row.id).possible_duplicate


def test_deadletter_replay_puts_the_row_back_and_it_is_sent(deps, clock):
    deps.notifier = RecordingNotifier({"ops": [SendResult(ok=False, retryable=False, error="554")]})
    alert = make_alert()
    assert deliver(alert, "ops", deps=deps).status == "dead"
    [dead] = dead_letters(deps.store)
    assert dead.id == row_id(alert.delivery_key("ops"))
    assert replay(deps.store, "nope", clock.now) is None
    again = replay(deps.store, dead.id, clock.now)
    assert again is not None and (again.status, again.attempts) == ("pending", 0)
    assert replay(deps.store, dead.id, clock.now) is None  # only dead rows replay
    assert dead_letters(deps.store) == []
    assert stale_deliveries(deps, clock.now) == [(alert, "ops")]
    assert deliver(alert, "ops", deps=deps).status == "sent"
    assert len(deps.notifier.sent) == 1
