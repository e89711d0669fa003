"""The send claim inside the row's value on Redis (``ledger_lua``): what each write does to it.

The memory ledger keeps claims in a dict of their own; ``test_redis_paths`` checks that both
answer alike. These tests look at the stored value itself: who keeps the claim, who drops it,
and that a value put back after a refusal is the one found.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.delivery import deliver, redis_store
from alerts.delivery.claim import split_value
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.minhash import signature
from alerts.delivery.redis_ledger import RedisLedger
from alerts.delivery.stages import placement
from alerts.delivery.straight import place_and_begin
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps

PREFIX = "alerts:dlv:"


@pytest.fixture
def ledger(redis_client) -> RedisLedger:
    store = redis_store(redis_client)
    assert isinstance(store.ledger, RedisLedger)
    return store.ledger


def stored(ledger: RedisLedger, row: DeliveryRow) -> tuple[str | None, DeliveryRow]:
    """The claim in a row's stored value, and the row."""
    claim, json = split_value(ledger.r.get(f"{PREFIX}row:{row.id}"))
    return claim, DeliveryRow.model_validate_json(json)


def assert_unclaimed(ledger: RedisLedger, row: DeliveryRow, status: str) -> None:
    """The row is stored in ``status`` with no claim, its TTL kept."""
    claim, found = stored(ledger, row)
    assert claim is None and found.status == status
    assert ledger.r.ttl(f"{PREFIX}row:{row.id}") > 0


def sending(n: int = 1) -> DeliveryRow:
    return DeliveryRow.new(make_alert(n), "ops", T0).moved("sending", T0, attempts=1)


def test_begin_writes_claim_and_row_in_one_value_and_finish_drops_the_claim(ledger):
    row = sending()
    assert ledger.begin_send(row, "a", 10, T0).outcome == "claimed"
    claim, found = stored(ledger, row)
    assert claim is not None and claim.startswith("a|") and found.status == "sending"
    assert ledger.lookup(row.id, T0)[1] == pytest.approx(10)
    assert ledger.finish(row.moved("sent", T0), "a")
    assert_unclaimed(ledger, row, "sent")


def test_a_held_claim_refuses_begin_and_leaves_the_value_as_it_was(ledger):
    row = sending()
    ledger.begin_send(row, "a", 10, T0)
    before = ledger.r.get(f"{PREFIX}row:{row.id}")
    again = ledger.begin_send(row.model_copy(update={"attempts": 2}), "b", 10, T0)
    assert (again.outcome, again.left) == ("held", pytest.approx(10))
    assert ledger.r.get(f"{PREFIX}row:{row.id}") == before


def test_a_lapsed_claim_is_taken_and_the_flagged_save_keeps_it(ledger):
    """A worker died mid-send: past its lease the next claims the row, which stays as the dead
    worker left it until the caller flags it; that save keeps the new claim."""
    row = sending()
    ledger.begin_send(row, "dead", 10, T0)
    later = T0 + timedelta(seconds=11)
    retry = row.model_copy(update={"attempts": 2})
    assert ledger.begin_send(retry, "b", 10, later).outcome == "lapsed"
    claim, found = stored(ledger, row)
    assert claim is not None and claim.startswith("b|") and found.attempts == 1
    assert ledger.save(retry.model_copy(update={"possible_duplicate": True}))
    claim, found = stored(ledger, row)
    assert claim is not None and claim.startswith("b|") and found.possible_duplicate


def test_release_drops_only_its_own_claim(ledger):
    row = sending()
    ledger.begin_send(row, "a", 10, T0)
    ledger.release(row.id, "b")
    assert stored(ledger, row)[0] is not None
    ledger.release(row.id, "a")
    assert_unclaimed(ledger, row, "sending")


def test_a_retry_finish_frees_the_row_and_a_forced_replay_drops_anothers_claim(ledger):
    row = sending()
    ledger.begin_send(row, "a", 60, T0)
    assert ledger.finish(row.moved("retrying", T0), "a")
    assert stored(ledger, row)[0] is None
    ledger.begin_send(row, "b", 60, T0)
    assert ledger.save(row.moved("pending", T0), force=True)
    assert stored(ledger, row)[0] is None


def test_a_killed_worker_mid_send_is_resent_and_flagged(redis_client):
    """Claimed, maybe sent, never finished: past the lease the next delivery sends it again
    and the row says it may be a duplicate."""
    notifier = RecordingNotifier({"ops": [SendResult(ok=True)]})
    deps = make_deps(store=redis_store(redis_client), notifier=notifier, paced_channels=[])
    alert = make_alert(1)
    row = DeliveryRow.new(alert, "ops", T0).moved("sending", T0, attempts=1)
    deps.store.ledger.begin_send(row, "killed", deps.conf.lease_seconds, T0)
    deps.clock.advance(seconds=deps.conf.lease_seconds + 1)  # type: ignore[attr-defined]
    outcome = deliver(alert, "ops", deps=deps)
    assert outcome.status == "sent" and "possible duplicate" in outcome.detail
    claim, found = stored(deps.store.ledger, row)  # type: ignore[arg-type]
    assert claim is None and found.status == "sent" and found.possible_duplicate
    assert len(notifier.sent) == 1


@pytest.mark.parametrize("fresh", [False, True])
def test_skipping_a_new_items_placement_lookup_places_it_the_same(redis_client, fresh):
    """``fresh`` only skips reading keys a new item cannot have: same story, same claim, and
    its second channel (not fresh) finds the story the first started."""
    redis_client.flushdb()
    deps = make_deps(store=redis_store(redis_client), paced_channels=[])
    alert = make_alert(1, channels=("ops", "slack"))
    new = placement(alert, T0, deps, "ops")
    first = DeliveryRow.new(alert, "ops", T0).moved("sending", T0, attempts=1)
    claim = ("a", 60.0, T0)
    done = place_and_begin(deps.store, signature(alert.item), new, first, claim, fresh=fresh)
    assert done.story == alert.key and done.begun is not None
    assert done.begun.outcome == "claimed"
    other = DeliveryRow.new(alert, "slack", T0).moved("sending", T0, attempts=1)
    again = place_and_begin(deps.store, signature(alert.item), placement(alert, T0, deps, "slack"),
                            other, ("b", 60.0, T0))  # fmt: skip
    assert again.story == alert.key and again.begun is not None


def test_the_script_reads_the_rows_own_status_and_wake_not_its_alerts_text(ledger):
    # The script reads a stored row's status and wake time without decoding the whole JSON:
    # the row's own fields come first, and the same names inside the alert's text are escaped.
    trap = '"status":"sent","wake_at":"2000-01-01T00:00:00Z" {"status":"dead"}'
    alert = make_alert(title=trap)
    wake = T0 + timedelta(seconds=30)
    row = DeliveryRow.new(alert, "ops", T0).model_copy(update={"wake_at": wake})
    assert trap in row.model_dump_json().replace('\\"', '"')
    assert ledger.insert(row) is None
    assert ledger.r.zscore(f"{PREFIX}wake", row.id) == wake.timestamp()
    moved = row.moved("sending", T0, attempts=1)  # the same wake time: its entry stays
    assert ledger.begin_send(moved, "a", 10, T0).outcome == "claimed"  # not "finished"
    assert ledger.r.zscore(f"{PREFIX}wake", row.id) == wake.timestamp()
    assert ledger.finish(moved.moved("sent", T0), "a")
    assert_unclaimed(ledger, row, "sent")
    assert ledger.r.zscore(f"{PREFIX}wake", row.id) is None
    assert not ledger.save(moved.moved("retrying", T0))  # a final row is never demoted
