"""The write's straight steps for every inline row (``handoff_lua``, ``handoff._aheads``): a
group's rows placed, paced and claimed in its one write, in order, against the same groups
delivered by parts over memory.

A private Redis (``private_redis``), as ``test_handoff_step``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import redis

from alerts import handoff, handoff_commit
from alerts.delivery import deliver
from alerts.delivery.claim import seconds_left, split_value
from alerts.delivery.ledger import row_id
from alerts.delivery.reconcile import pending_row
from alerts.delivery.silences import add_silence
from alerts.delivery.straight import Straight
from alerts.handoff import Handoff, inserted_ids, send_or_queue
from alerts.handoff_commit import Written, known_silences, write
from alerts.models import Alert, Digest
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import make_alert
from tests.test_handoff_commit import trips
from tests.test_handoff_step import over, stored


@pytest.fixture
def client(private_redis: redis.Redis, monkeypatch: pytest.MonkeyPatch) -> redis.Redis:
    private_redis.flushall()
    monkeypatch.setattr(handoff_commit, "_KNOWN", [("", [])])  # no silences known yet
    return private_redis


class Threading(RecordingNotifier):
    """Each message starts a thread (as Slack's bot API or email): its ref is the item's."""

    def __init__(self, h_clock: Any = None, took: float = 0.0, **kw: Any) -> None:
        super().__init__(**kw)
        self.clock, self.took = h_clock, took

    def send(
        self, channel: str, content: Alert | Digest, *, reply_to: str | None = None
    ) -> SendResult:
        result = super().send(channel, content, reply_to=reply_to)
        if self.clock is not None:
            self.clock.advance(seconds=self.took)  # a slow send
        if result.ok and isinstance(content, Alert):
            return result.model_copy(update={"thread_ref": f"ref:{content.item.id}:{channel}"})
        return result


def follow(n: int, of: int, channels: tuple[str, ...] = ("ops",)) -> Alert:
    """Item ``item-n`` with ``item-of``'s text: it follows up ``item-of``'s story."""
    same = make_alert(of).item.model_copy(update={"id": f"item-{n}"})
    return make_alert(n, channels=channels).model_copy(update={"item": same})


def group(h: Handoff, alerts: list[Alert]) -> Written:
    """What ``handoff.hand_on`` does after matching a group of items (one write, then sends)."""
    rows = [pending_row(a, ch, h.clock(), h.delivery) for a in alerts for ch in a.channels]
    known = known_silences()
    aheads = handoff._aheads(rows, h, known[1])
    items = list({a.item.id: a.item for a in alerts}.values())
    done = write(h, rows, items, (), check=True, aheads=aheads, known=known)
    jobs = [(row.alert, row.channel, row) for row in done.recorded]
    send_or_queue(jobs, h, done.silences, inserted_ids(rows, done.recorded), done.steps)
    return done


def groups_over(c: redis.Redis | None) -> tuple[list[Any], list[Any], list[Written]]:
    """The same groups over ``c`` (None: memory): the rows, the sends and the writes."""
    notifier = Threading()
    h = over(c, notifier=notifier, paced_channels=["slack"], pace_rate=2.0, pace_burst=2)
    both = ("ops", "slack")
    writes = [
        # two rows of one story: item-1 follows item-0, started by the same write
        group(h, [make_alert(0, channels=both), follow(1, 0, both), make_alert(2)]),
        # a follow-up of a story an earlier group started (its thread known), then new ones,
        # one of which waits for the paced channel's token
        group(h, [follow(3, 0), make_alert(4, channels=both), make_alert(5, channels=both)]),
    ]
    # a silence changed since the last write: no step in the next one
    add_silence(h.delivery.store.silences, "w-x", timedelta(hours=1), h.clock())
    writes.append(group(h, [make_alert(6), follow(7, 6)]))
    writes.append(group(h, [make_alert(8), make_alert(9, channels=both)]))  # known again
    rows = sorted(h.delivery.store.ledger.query(limit=100), key=lambda r: r.id)
    sends = [(ch, a.key if isinstance(a, Alert) else "", ref) for ch, a, ref in notifier.sent]
    return [r.model_dump(mode="json") for r in rows], sends, writes


def test_a_groups_steps_end_as_its_deliveries_by_parts(client):
    """New stories, a follow-up of a story the same write started (sent into its thread), a
    follow-up of an earlier group's, a paced wait and a changed silence end the same whether
    the write took the steps (Redis) or each delivery took its own (memory)."""
    rows, sends, writes = groups_over(client)
    assert (rows, sends) == groups_over(None)[:2]
    assert ("ops", "kaluga|item-1", "ref:item-0:ops") in sends  # threaded after its starter
    assert ("ops", "kaluga|item-3", "ref:item-0:ops") in sends
    # pending: past the cap of 4 inline sends (queued)
    assert {row["status"] for row in rows} == {"sent", "retrying", "pending"}, rows
    first, second, changed, known = ([s for _, s in w.steps.values()] for w in writes)
    # item-0 on both channels claimed; item-1's follow-up ends the steps of that write
    assert [s.begun is not None for s in first] == [True, True, False]
    # a follow-up of an earlier group's story, its thread read in the write: the rest step alone
    assert second == [Straight("kaluga|item-0", "ref:item-0:ops")]
    assert changed == [] and [bool(s.begun) for s in known] == [True, True, False]
    assert known[2].wait > 0  # paced


def test_a_group_of_new_items_costs_its_write_and_one_finish(client, monkeypatch):
    """Five bulletins' items on two channels each (a group task sends 4 a bulletin inline)."""
    h = over(client, notifier=RecordingNotifier())
    h = Handoff(h.seen, h.archive, h.delivery, h.clock, lambda *_: None, inline=20)
    group(h, [make_alert(0)])  # the scripts loaded, the silences known
    alerts = [make_alert(n, channels=("ops", "slack")) for n in range(1, 6)]
    done, sent = trips(lambda: group(h, alerts), monkeypatch)
    assert sent == [b"EVALSHA", b"EVALSHA"], sent  # the write, the finishes
    assert len(done.steps) == 10 and all(s.begun for _, s in done.steps.values())
    assert all(stored(client, row)[1].status == "sent" for row in done.recorded)


def test_a_row_past_the_cap_is_not_stepped(client):
    h = over(client, notifier=RecordingNotifier())
    capped = Handoff(h.seen, h.archive, h.delivery, h.clock, lambda *_: None, inline=2)
    done = group(capped, [make_alert(n) for n in range(3)])
    assert len(done.steps) == 2
    assert stored(client, done.recorded[2]) == (None, done.recorded[2])  # pending, unclaimed


def test_a_claimed_row_queued_past_the_budget_is_put_back_pending(client):
    """The first send takes the whole budget: the second row, claimed by the write, is queued
    unclaimed, and its task sends it at once, not flagged a possible duplicate."""
    queued: list[tuple[str, str, float | None]] = []
    notifier = Threading(took=3.0)
    h = over(client, notifier=notifier)
    notifier.clock = h.clock
    slow = Handoff(
        h.seen, h.archive, h.delivery, h.clock, lambda a, ch, w: queued.append((a.key, ch, w)),
        inline_budget=2.0,
    )  # fmt: skip
    alerts = [make_alert(0), make_alert(1)]
    done = group(slow, alerts)
    assert len(done.steps) == 2 and queued == [("kaluga|item-1", "ops", None)]
    claim, row = stored(client, done.recorded[1])
    assert claim is None and row.status == "pending"
    assert deliver(alerts[1], "ops", deps=h.delivery).status == "sent"
    assert not stored(client, done.recorded[1])[1].possible_duplicate


def test_a_claim_the_sends_before_aged_is_taken_afresh(client):
    """The first send takes long enough that the second row's claim, taken by the write, could
    lapse during its own send at its slowest: the row is sent under a fresh claim."""
    notifier = Threading(took=1.0)
    h = over(client, notifier=notifier)
    notifier.clock = h.clock
    claims: list[float | None] = []
    sending = notifier.send

    def send(channel: str, content: Any, *, reply_to: str | None = None) -> SendResult:
        rid = row_id(content.delivery_key(channel))
        claim, _ = split_value(client.get(f"alerts:dlv:row:{rid}"))
        claims.append(seconds_left(claim, h.clock()))
        return sending(channel, content, reply_to=reply_to)

    notifier.send = send  # type: ignore[method-assign]
    lease = h.delivery.conf.lease_seconds
    slow = Handoff(
        h.seen, h.archive, h.delivery, h.clock, lambda *_: None, send_seconds=lease / 2 - 0.5
    )  # fmt: skip
    done = group(slow, [make_alert(0), make_alert(1)])
    assert len(done.steps) == 2 and claims == [lease, lease]  # the second's taken at its send
    row = stored(client, done.recorded[1])[1]
    assert row.status == "sent" and row.attempts == 1 and not row.possible_duplicate
