"""Redis commands and round trips per delivery, counted on a private Redis so other traffic
cannot blur them.

The merged paths (one pipeline for the records and the items' writes, one Lua call each for
the story, the claim and the finish) are what keeps an alerting item cheap; these counts make a
change that brings back a round trip, per-band sets, per-key expiries or index rewrites fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection

from alerts.clock import FrozenClock
from alerts.delivery import deliver, record_pending, redis_store
from alerts.delivery.ledger_lua import LEDGER_SCRIPT
from alerts.delivery.pipeline import straight_ahead
from alerts.delivery.reconcile import pending_row
from alerts.delivery.silences import add_silence
from alerts.handoff import Handoff, inserted_ids, send_or_queue
from alerts.handoff_commit import known_silences, write
from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore
from alerts.ingest.intake import Accepted, RedisIntake
from alerts.models import Alert
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps

# An item raising one alert, sent inline: the write (its record, the item archived and seen,
# its bulletin out of the intake, the silences read) with the story and the claim (``straight``
# inside it: ``handoff_lua``), the finish.
ITEM_ROUND_TRIPS = 2
ITEM_BUDGET = 16  # commands, Lua's included (the delivery 10 of them, the item 6)
# The same item when the write cannot take the straight step (the silences changed since the
# last write: the caller judged it by others): the step is a round trip of its own.
UNFOLDED_ROUND_TRIPS = 3
# A second item of the same story on the same watch: joins it (found by the write's step),
# held for the digest (a webhook cannot thread), no new story written.
FOLLOWUP_ROUND_TRIPS = 3  # the write with the story (unclaimed), the digest buffer, the final
FOLLOWUP_BUDGET = 23  # the item 6, the delivery 17
# A deliver_alert task: the row, its claim and the silences in one read, then as inline.
TASK_ROUND_TRIPS = 3


def counted(
    client: redis.Redis, run: Callable[[], object], monkeypatch: pytest.MonkeyPatch
) -> tuple[Counter[str], int]:
    """Commands the server ran during ``run`` (inside Lua included), by name, and the round
    trips the client made (a pipeline is one)."""
    trips = [0]
    send = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        trips[0] += 1
        send(self, command, check_health)

    client.config_resetstat()
    with monkeypatch.context() as m:
        m.setattr(AbstractConnection, "send_packed_command", counting)
        run()
    stats = client.info("commandstats")
    names = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    return Counter({k: v for k, v in names.items() if not k.startswith("config")}), trips[0]


def handoff_over(
    client: redis.Redis,
    clock: FrozenClock,
    *,
    paced: bool = False,
    notifier: RecordingNotifier | None = None,
) -> Handoff:
    # make_deps paces at 1000 messages/s: a paced send never waits here
    pacing = {} if paced else {"paced_channels": []}
    deps = make_deps(store=redis_store(client), clock=clock, notifier=notifier, **pacing)
    return Handoff(
        seen=RedisSeenStore(client),
        archive=RedisItemArchive(client),
        delivery=deps,
        clock=clock,
        enqueue=lambda *_: None,
        intake=RedisIntake(client),
    )


def one_item(h: Handoff, alert: Alert) -> Callable[[], object]:
    """What ``handoff.hand_on`` does for an item with one alert, after matching it."""
    bulletin = Accepted(f"b-{alert.item.id}", "test", "", None)
    h.intake.add(bulletin, T0) if h.intake else None  # the API's write, not counted

    def run() -> object:
        rows = [pending_row(alert, "ops", h.clock(), h.delivery)]
        known = known_silences()
        ahead = straight_ahead(alert, rows[0], h.delivery, known[1])
        recorded, silences, _, step = write(
            h,
            rows,
            [alert.item],
            (bulletin.id,),
            check=False,
            aheads=[ahead] if ahead else [],
            known=known,
        )
        new = inserted_ids(rows, recorded)
        send_or_queue([(alert, "ops", recorded[0])], h, silences, new, step)
        return recorded

    return run


def test_an_alerting_item_stays_within_its_round_trips_and_commands(private_redis, monkeypatch):
    private_redis.flushall()
    clock = FrozenClock(T0)
    h = handoff_over(private_redis, clock)
    one_item(h, make_alert(0))()  # loads the scripts (SCRIPT LOAD is not the hot path)
    private_redis.script_load(LEDGER_SCRIPT)  # the follow-up's save: a running worker has it
    clock.advance(seconds=5)
    fresh, trips = counted(private_redis, one_item(h, make_alert(1)), monkeypatch)
    assert trips == ITEM_ROUND_TRIPS, (trips, fresh)
    assert fresh["smembers"] == fresh["sadd"] == 0, fresh  # no per-band sets
    assert fresh["expire"] <= 1 and fresh["zremrangebyscore"] <= 1, fresh
    assert fresh.total() <= ITEM_BUDGET, (fresh.total(), fresh)
    clock.advance(seconds=5)
    same = make_alert(1).item.model_copy(update={"id": "item-1b"})
    followup = make_alert(1).model_copy(update={"item": same})
    joined, trips = counted(private_redis, one_item(h, followup), monkeypatch)
    assert trips == FOLLOWUP_ROUND_TRIPS, (trips, joined)
    assert joined.total() <= FOLLOWUP_BUDGET, (joined.total(), joined)


def test_after_the_silences_change_one_straight_step_is_a_round_trip_of_its_own(
    private_redis, monkeypatch
):
    """The write takes the step only with the silences its caller judged it by; the next
    write knows the new ones (a silence of another watch holds nothing back)."""
    private_redis.flushall()
    clock = FrozenClock(T0)
    h = handoff_over(private_redis, clock)
    for n, watch in enumerate(("a-watch", "another-watch")):
        add_silence(h.delivery.store.silences, watch, timedelta(hours=1), T0)
        clock.advance(seconds=5)
        fresh, trips = counted(private_redis, one_item(h, make_alert(2 * n)), monkeypatch)
        clock.advance(seconds=5)
        _, again = counted(private_redis, one_item(h, make_alert(2 * n + 1)), monkeypatch)
    assert trips == UNFOLDED_ROUND_TRIPS, (trips, fresh)
    assert fresh.total() <= ITEM_BUDGET + 1, (fresh.total(), fresh)  # + the step's EVALSHA
    assert again == ITEM_ROUND_TRIPS


def test_the_seen_check_rides_in_the_write(private_redis, monkeypatch):
    """An item the API parsed is checked against the seen keys inside the write: the task
    body's whole Redis cost is the same three round trips and commands (one SET NX both checks
    and marks the item)."""
    private_redis.flushall()
    clock = FrozenClock(T0)
    h = handoff_over(private_redis, clock)
    one_item(h, make_alert(0))()
    clock.advance(seconds=5)
    alert = make_alert(1)
    bulletin = Accepted("b-1", "test", "", None)
    h.intake.add(bulletin, T0) if h.intake else None

    def run() -> object:
        rows = [pending_row(alert, "ops", h.clock(), h.delivery)]
        ahead = straight_ahead(alert, rows[0], h.delivery, known_silences()[1])
        recorded, silences, new, step = write(
            h, rows, [alert.item], (bulletin.id,), check=True, aheads=[ahead] if ahead else []
        )
        assert new == [alert.item] and len(recorded) == 1 and ahead and step
        send_or_queue([(alert, "ops", recorded[0])], h, silences, set(), step)
        return recorded

    fresh, trips = counted(private_redis, run, monkeypatch)
    assert trips == ITEM_ROUND_TRIPS, (trips, fresh)
    # a new item's placement is not looked up (no GET of its story key)
    assert fresh["exists"] == fresh["get"] == 0, fresh
    assert fresh.total() <= ITEM_BUDGET - 1, (fresh.total(), fresh)


def test_a_seen_item_gets_no_row_from_the_write_that_checks_it(private_redis):
    private_redis.flushall()
    clock = FrozenClock(T0)
    h = handoff_over(private_redis, clock)
    seen, new = make_alert(1), make_alert(2)
    h.seen.mark_seen([seen.item.id], T0)
    rows = [pending_row(a, "ops", T0, h.delivery) for a in (seen, new)]
    recorded, _, fresh = write(h, rows, [seen.item, new.item], (), check=True)[:3]
    assert fresh == [new.item] and [r.id for r in recorded] == [rows[1].id]
    assert h.delivery.store.ledger.get(rows[0].id) is None  # nothing for the reconciler
    assert h.delivery.store.ledger.get(rows[1].id) is not None
    assert h.seen.unseen([seen.item.id, new.item.id]) == []


def test_a_new_threads_ref_is_kept_in_the_finishs_round_trip(private_redis, monkeypatch):
    # A bot token's answer carries the message's ts; the story keeps it for its follow-ups.
    private_redis.flushall()
    clock = FrozenClock(T0)
    threaded = [SendResult(ok=True, thread_ref=f"1700000000.00010{n}") for n in range(2)]
    h = handoff_over(private_redis, clock, notifier=RecordingNotifier({"ops": threaded}))
    one_item(h, make_alert(0))()
    clock.advance(seconds=5)
    fresh, trips = counted(private_redis, one_item(h, make_alert(1)), monkeypatch)
    assert trips == ITEM_ROUND_TRIPS, (trips, fresh)
    assert fresh.total() <= ITEM_BUDGET + 1, (fresh.total(), fresh)  # + the thread's SET NX
    refs = {private_redis.get(k) for k in private_redis.scan_iter("*story:thread:*")}
    assert refs == {b"1700000000.000100", b"1700000000.000101"}


def test_pacing_a_channel_costs_no_round_trip_of_its_own(private_redis, monkeypatch):
    """The pacing token is taken inside the story-and-claim step (``straight``)."""
    private_redis.flushall()
    clock = FrozenClock(T0)
    h = handoff_over(private_redis, clock, paced=True)
    one_item(h, make_alert(0))()
    clock.advance(seconds=5)
    fresh, trips = counted(private_redis, one_item(h, make_alert(1)), monkeypatch)
    assert trips == ITEM_ROUND_TRIPS, (trips, fresh)
    assert private_redis.exists("alerts:dlv:pace:ops")


def test_a_delivery_task_reads_its_row_and_the_silences_in_one_round_trip(
    private_redis, monkeypatch
):
    private_redis.flushall()
    clock = FrozenClock(T0)
    deps = make_deps(store=redis_store(private_redis), clock=clock, paced_channels=[])
    record_pending(make_alert(0), "ops", deps=deps)
    deliver(make_alert(0), "ops", deps=deps)  # loads the scripts
    record_pending(make_alert(1), "ops", deps=deps)
    clock.advance(seconds=5)
    run = lambda: deliver(make_alert(1), "ops", deps=deps)  # noqa: E731
    _, trips = counted(private_redis, run, monkeypatch)
    assert trips == TASK_ROUND_TRIPS


def test_every_story_key_expires_by_itself(private_redis):
    """Expiry from one place: no story key lives without a TTL, so nothing needs trimming."""
    private_redis.flushall()
    clock = FrozenClock(T0)
    deps = make_deps(store=redis_store(private_redis), clock=clock, paced_channels=[])
    for n in range(5):
        row = record_pending(make_alert(n), "ops", deps=deps)
        deliver(make_alert(n), "ops", deps=deps, pending=row)
        clock.advance(minutes=1)
    keys = private_redis.keys("alerts:dlv:story:*")
    assert keys and all(private_redis.ttl(k) > 0 for k in keys)
