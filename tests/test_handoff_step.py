"""The write's straight step (``handoff_lua``): the first row's story, pacing and claim in the
hand-on's one write, on a real Redis, against the step taken by parts over memory.

A private Redis (``private_redis``): ``SCRIPT FLUSH`` empties the script cache of the whole
server, which other tests on a shared one would see.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis

from alerts import handoff_commit
from alerts.clock import FrozenClock
from alerts.delivery import deliver, memory_store, redis_store
from alerts.delivery.claim import split_value
from alerts.delivery.ledger import Begun, DeliveryRow
from alerts.delivery.pipeline import straight_ahead
from alerts.delivery.reconcile import pending_row, stale_deliveries
from alerts.delivery.silences import add_silence
from alerts.delivery.straight import Straight
from alerts.handoff import Handoff, inserted_ids, send_or_queue
from alerts.handoff_commit import Written, known_silences, write
from alerts.ingest.dedup import (
    MemoryItemArchive,
    MemorySeenStore,
    RedisItemArchive,
    RedisSeenStore,
)
from alerts.models import Alert
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps
from tests.test_handoff_commit import trips

LEASE = 60.0


@pytest.fixture
def client(private_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    private_redis.flushall()
    monkeypatch.setattr(handoff_commit, "_KNOWN", [("", [])])  # no silences known yet
    return private_redis


def over(client: redis.Redis | None, **delivery: Any) -> Handoff:
    """A Handoff over ``client`` (None: the memory stores) at a frozen T0."""
    clock = FrozenClock(T0)
    delivery.setdefault("paced_channels", [])
    notifier = delivery.pop("notifier", None)
    store = redis_store(client) if client is not None else memory_store()
    deps = make_deps(store=store, clock=clock, notifier=notifier, lease_seconds=LEASE, **delivery)
    if client is None:
        return Handoff(MemorySeenStore(), MemoryItemArchive(), deps, clock, lambda *_: None)
    return Handoff(RedisSeenStore(client), RedisItemArchive(client), deps, clock, lambda *_: None)


def first_step(done: Written) -> Straight | None:
    """How the write's step ended (None: none taken)."""
    return next((took for _, took in done.steps.values()), None)


def written(h: Handoff, alert: Alert, *, check: bool = True) -> tuple[Written, Any]:
    """The write of ``alert``'s item and its row on "ops", with the step's inputs."""
    row = pending_row(alert, "ops", h.clock(), h.delivery)
    known = known_silences()
    ahead = straight_ahead(alert, row, h.delivery, known[1])
    assert ahead is not None
    return write(h, [row], [alert.item], (), check=check, aheads=[ahead], known=known), ahead


def stored(client: redis.Redis, row: DeliveryRow) -> tuple[str | None, DeliveryRow]:
    """The row's stored claim (None: unclaimed) and row."""
    claim, json = split_value(client.get(f"alerts:dlv:row:{row.id}"))
    return claim, DeliveryRow.model_validate_json(json)


def test_a_new_items_row_is_written_sending_under_its_claim_at_its_pending_wake(client):
    h = over(client)
    done, ahead = written(h, make_alert(1))
    assert first_step(done) == Straight(ahead.new.story, begun=Begun("claimed"))
    claim, row = stored(client, done.recorded[0])
    assert claim and claim.startswith(ahead.token) and row == ahead.sending
    assert row.status == "sending" and row.story == "kaluga|item-1" and row.attempts == 1
    wake = client.zscore("alerts:dlv:wake", row.id)
    assert wake == done.recorded[0].wake_at.timestamp()  # type: ignore[union-attr]


@pytest.mark.parametrize("why", ["silence", "seen", "found"])
def test_no_step_after_the_silences_changed_for_a_seen_item_or_a_row_found(client, why):
    """The row stays ``pending`` and unclaimed; the caller's delivery takes the ordinary path."""
    h, alert = over(client), make_alert(1)
    written(h, make_alert(0))  # the silences known: none
    if why == "silence":  # a silence of another watch: the caller judged by the ones before
        add_silence(h.delivery.store.silences, "w-x", timedelta(hours=1), T0)
    if why == "seen":
        h.seen.mark_seen([alert.item.id], T0)
    if why == "found":
        write(h, [pending_row(alert, "ops", T0, h.delivery)], [alert.item], (), check=False)
    done, _ = written(h, alert, check=why != "found")
    assert first_step(done) is None
    if why != "seen":
        claim, row = stored(client, done.recorded[0])
        assert claim is None and row.status == "pending"


def test_after_noscript_the_text_is_sent_and_the_step_taken_once(client, monkeypatch):
    h = over(client)
    written(h, make_alert(0))
    client.script_flush()
    (done, ahead), sent = trips(lambda: written(h, make_alert(1)), monkeypatch)
    assert sent == [b"EVALSHA", b"EVAL"]
    step = first_step(done)
    assert step and step.begun and stored(client, ahead.sending)[1].attempts == 1


def test_a_follow_up_comes_back_unclaimed_with_its_story(client):
    h = over(client)
    first = make_alert(1)
    written(h, first)
    h.clock.advance(seconds=5)  # type: ignore[attr-defined]  # a FrozenClock
    same = first.item.model_copy(update={"id": "item-1b"})
    done, _ = written(h, first.model_copy(update={"item": same}))
    assert first_step(done) == Straight("kaluga|item-1", None)
    claim, row = stored(client, done.recorded[0])
    assert claim is None and row.status == "pending"


def test_a_paced_wait_comes_back_unclaimed(client):
    h = over(client, paced_channels=["ops"], pace_rate=1.0, pace_burst=1)
    written(h, make_alert(1))  # takes the one token
    done, ahead = written(h, make_alert(2))
    assert first_step(done) == Straight(ahead.new.story, wait=1.0)
    claim, row = stored(client, done.recorded[0])
    assert claim is None and row.status == "pending"


def test_a_crash_between_the_write_and_the_send_is_resent_by_the_reconciler_flagged(client):
    notifier = RecordingNotifier()
    h = over(client, notifier=notifier)
    alert = make_alert(1)
    written(h, alert)  # the worker dies here, holding the claim
    h.clock.advance(seconds=LEASE + 1)  # type: ignore[attr-defined]
    assert stale_deliveries(h.delivery, h.clock()) == [(alert, "ops")]
    assert deliver(alert, "ops", deps=h.delivery).status == "sent"
    row = h.delivery.store.ledger.get(pending_row(alert, "ops", T0, h.delivery).id)
    assert row is not None and row.status == "sent" and row.possible_duplicate


def one_item(h: Handoff, alert: Alert) -> None:
    """What ``handoff.hand_on`` does after matching an item with alerts on every channel."""
    rows = [pending_row(alert, ch, h.clock(), h.delivery) for ch in alert.channels]
    known = known_silences()
    ahead = straight_ahead(alert, rows[0], h.delivery, known[1])
    done = write(
        h, rows, [alert.item], (), check=True, aheads=[ahead] if ahead else [], known=known
    )
    jobs = [(alert, row.channel, row) for row in done.recorded]
    send_or_queue(jobs, h, done.silences, inserted_ids(rows, done.recorded), done.steps)


def test_over_redis_the_items_end_as_over_memory(client):
    """New stories, follow-ups (threaded or digested), a 429 and a paced wait end the same
    whether the write took the step (Redis) or the delivery took it by parts (memory)."""
    results = {}
    for name, c in (("redis", client), ("memory", None)):
        fail = {"slack": [SendResult(ok=False, retryable=True, error="429", retry_after=2.0)]}
        notifier = RecordingNotifier(fail)
        h = over(c, notifier=notifier, paced_channels=["slack"], pace_rate=2.0, pace_burst=2)
        for i in range(9):
            alert = make_alert(i, channels=("ops", "slack"))
            if i % 3:  # a follow-up of the item two before
                same = make_alert(i - i % 3).item.model_copy(update={"id": f"item-{i}"})
                alert = alert.model_copy(update={"item": same})
            one_item(h, alert)
            h.clock.advance(seconds=1)  # type: ignore[attr-defined]
        rows = sorted(h.delivery.store.ledger.query(limit=100), key=lambda r: r.id)
        sends = [(ch, a.key if isinstance(a, Alert) else "", ref) for ch, a, ref in notifier.sent]
        results[name] = ([r.model_dump(mode="json") for r in rows], sends)
    assert results["redis"] == results["memory"]
    statuses = {row["status"] for row in results["redis"][0]}
    assert {"sent", "digested", "retrying"} <= statuses, statuses


@pytest.mark.parametrize("story", [False, True])
def test_a_muting_or_story_silence_leaves_the_step_to_the_delivery(client, story):
    """Judged by the silences the last write read: a silence muting the watch, or any story
    silence, means no step ahead; the delivery silences the row or takes the stages."""
    h, alert = over(client), make_alert(1)
    add_silence(
        h.delivery.store.silences, None if story else alert.watch, timedelta(hours=1), T0,
        story="kaluga|other" if story else None,
    )  # fmt: skip
    one_item(h, make_alert(0))  # reads them
    row = pending_row(alert, "ops", h.clock(), h.delivery)
    assert straight_ahead(alert, row, h.delivery, known_silences()[1]) is None
    one_item(h, alert)
    assert h.delivery.store.ledger.get(row.id).status == ("sent" if story else "silenced")


def test_a_write_that_knows_the_silences_gets_none_back(client, monkeypatch):
    """The silences hash comes back only when its digest differs from the caller's."""
    h = over(client)
    add_silence(h.delivery.store.silences, "w-x", timedelta(hours=1), T0)
    first, _ = written(h, make_alert(1))
    again, _ = written(h, make_alert(2))
    assert [s.watch for s in first.silences] == [s.watch for s in again.silences] == ["w-x"]
    assert again.silences is first.silences and first_step(again) is not None
