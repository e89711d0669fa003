"""The inline sends of one hand-on finish together (``handoff.send_or_queue``): one round trip
after the sends, before anything is queued; a new thread's ref, and a claim half a lease old,
are finished before the next send; a failed write queues each delivery, as a failed send did."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
import redis

from alerts import handoff, handoff_commit
from alerts.delivery.claim import split_value
from alerts.delivery.ledger import row_id
from alerts.handoff import Handoff
from alerts.models import Alert, Digest
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from alerts.notify.settings import NotifySettings
from tests.delivery.helpers import make_alert
from tests.delivery.test_command_budget import counted
from tests.test_handoff_step import LEASE, one_item, over

CHANNELS = ("ops", "slack", "mail")
STORES = ["redis", "memory"]


@pytest.fixture
def client(private_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    private_redis.flushall()
    monkeypatch.setattr(handoff_commit, "_KNOWN", [("", [])])  # no silences known yet
    return private_redis


def status(h: Handoff, alert: Alert, channel: str) -> str:
    row = h.delivery.store.ledger.get(row_id(alert.delivery_key(channel)))
    assert row is not None
    return row.status


class Watching(RecordingNotifier):
    """Notes, at each send, the statuses of the rows sent before it; each send takes
    ``advance`` seconds on the hand-on's frozen clock (a list: one per send, in turn)."""

    def __init__(self, advance: float | list[float] = 0.0, script: Any = None) -> None:
        super().__init__(script)
        self.h: Handoff | None = None
        self.advance = advance
        self.earlier: list[tuple[Alert, str]] = []
        self.before: list[list[str]] = []

    def send(
        self, channel: str, content: Alert | Digest, *, reply_to: str | None = None
    ) -> SendResult:
        assert self.h is not None and isinstance(content, Alert)
        self.before.append([status(self.h, a, ch) for a, ch in self.earlier])
        self.earlier.append((content, channel))
        took = self.advance.pop(0) if isinstance(self.advance, list) else self.advance
        self.h.clock.advance(seconds=took)  # type: ignore[attr-defined]
        return super().send(channel, content, reply_to=reply_to)


def watched(client: redis.Redis, store: str, notifier: Watching, **kw: Any) -> Handoff:
    h = over(client if store == "redis" else None, notifier=notifier)
    notifier.h = h
    return replace(h, **kw)


def test_the_inline_sends_of_a_hand_on_finish_in_one_round_trip(client, monkeypatch):
    h = over(client)
    one_item(h, make_alert(0, channels=CHANNELS))  # loads the scripts
    alert = make_alert(1, channels=CHANNELS)
    _, trips = counted(client, lambda: one_item(h, alert), monkeypatch)
    # the write (with the first send's step), the two other sends' steps, the three finishes
    assert trips == 4
    for channel in CHANNELS:
        assert status(h, alert, channel) == "sent"
        claim, _ = split_value(client.get(f"alerts:dlv:row:{row_id(alert.delivery_key(channel))}"))
        assert claim is None  # each claim dropped by its finish


@pytest.mark.parametrize("store", STORES)
def test_quick_sends_finish_together_after_the_last_one(client, store):
    notifier = Watching()
    h = watched(client, store, notifier)
    one_item(h, make_alert(1, channels=CHANNELS))
    assert notifier.before == [[], ["sending"], ["sending", "sending"]]
    assert [status(h, make_alert(1), ch) for ch in CHANNELS] == ["sent"] * 3


@pytest.mark.parametrize("store", STORES)
def test_a_claim_half_a_lease_old_is_finished_before_the_next_send(client, store):
    notifier = Watching(advance=LEASE / 2)
    h = watched(client, store, notifier, inline_budget=2 * LEASE)
    one_item(h, make_alert(1, channels=CHANNELS))
    assert notifier.before == [[], ["sent"], ["sent", "sent"]]


@pytest.mark.parametrize("store", STORES)
def test_held_claims_are_finished_before_a_send_that_could_outlast_half_a_lease(client, store):
    """A quick send, then one as slow as a send may be (over half a lease): the first claim
    is finished before the slow send starts, not after it (it would be a lease old)."""
    notifier = Watching(advance=[0.0, LEASE / 2 + 1, 0.0])
    h = watched(client, store, notifier, inline_budget=2 * LEASE, send_seconds=LEASE / 2 + 1)
    one_item(h, make_alert(1, channels=CHANNELS))
    assert notifier.before == [[], ["sent"], ["sent", "sent"]]


@pytest.mark.parametrize("store", STORES)
def test_a_new_threads_ref_is_written_before_the_next_send_which_follows_it_up(client, store):
    """Two near-duplicate items of one hand-on: the second follows up the story the first
    started, in its thread (a follow-up that finds no thread ref is held for the digest)."""
    ref = "1700000000.000100"
    notifier = Watching(script={"ops": [SendResult(ok=True, thread_ref=ref)]})
    h = watched(client, store, notifier)
    first = make_alert(1)
    second = first.model_copy(update={"item": first.item.model_copy(update={"id": "item-1b"})})
    handoff.send_or_queue(handoff.record_all([first, second], h.delivery), h)
    assert notifier.before == [[], ["sent"]]
    sent = [(a.item.id, to) for _, a, to in notifier.sent if isinstance(a, Alert)]
    assert sent == [("item-1", None), ("item-1b", ref)]


def test_nothing_is_queued_before_the_finishes_are_written(client):
    notifier, queued = Watching(), list[tuple[str, str]]()
    h = watched(client, "memory", notifier, inline=2)

    def enqueue(alert: Alert, channel: str, wait: float | None) -> None:
        queued.append((channel, status(h, alert, "ops")))  # the first send's row, by then

    one_item(replace(h, enqueue=enqueue), make_alert(1, channels=CHANNELS))
    assert queued == [("mail", "sent")]


@pytest.mark.parametrize("store", STORES)
def test_a_failed_finish_write_queues_each_delivery_as_a_failed_send_did(
    client, store, monkeypatch, caplog
):
    busy = SendResult(ok=False, retryable=True, error="429", retry_after=5.0)
    notifier, queued = Watching(script={"slack": [busy]}), list[tuple[str, float | None]]()
    h = watched(client, store, notifier, enqueue=lambda a, ch, w: queued.append((ch, w)))
    notifier.h = h

    def down(*_: Any) -> None:
        raise redis.ConnectionError("Redis went away")

    monkeypatch.setattr(handoff, "finish_all", down)
    with caplog.at_level(logging.WARNING, logger="alerts.handoff"):
        one_item(h, make_alert(1, channels=CHANNELS))
    assert queued == [(ch, None) for ch in CHANNELS]  # the 429's retry queued now, once
    assert len(notifier.sent) == 2  # each sent once; its task finds it ``sending``
    assert [status(h, make_alert(1), ch) for ch in CHANNELS] == ["sending"] * 3
    assert sum("ConnectionError); queued" in r.getMessage() for r in caplog.records) == 3


def test_the_slowest_send_assumed_is_an_http_sends_connect_and_read_timeouts():
    assert Handoff.send_seconds == 2 * NotifySettings().http_timeout


@pytest.mark.parametrize("store", STORES)
def test_a_finish_write_failing_otherwise_than_an_outage_writes_each_on_its_own(
    client, store, monkeypatch, caplog
):
    """One row's script error (or a timed-out reply) fails the batch: each finish is written
    on its own, and only the delivery whose own write fails too is queued (a resend)."""
    notifier, queued = Watching(), list[tuple[str, float | None]]()
    h = watched(client, store, notifier, enqueue=lambda a, ch, w: queued.append((ch, w)))
    real = handoff.finish_sent

    def batch(*_: Any) -> None:
        raise redis.ResponseError("script error on one row")

    def one(store_: Any, row: Any, token: str) -> bool:
        if row.channel == "slack":
            raise redis.TimeoutError("Timeout reading from socket")
        return real(store_, row, token)

    monkeypatch.setattr(handoff, "finish_all", batch)
    monkeypatch.setattr(handoff, "finish_sent", one)
    with caplog.at_level(logging.WARNING, logger="alerts.handoff"):
        one_item(h, make_alert(1, channels=CHANNELS))
    assert queued == [("slack", None)]
    assert [status(h, make_alert(1), ch) for ch in CHANNELS] == ["sent", "sending", "sent"]
    assert sum("TimeoutError" in r.getMessage() for r in caplog.records) == 1
