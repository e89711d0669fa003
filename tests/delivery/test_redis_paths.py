"""The one-round-trip Redis paths (ledger and story Lua) behave exactly like the memory store."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from alerts.clock import FrozenClock
from alerts.delivery import deliver, memory_store, record_pending, redis_store
from alerts.delivery.ledger import FINAL, STATUSES, UNINDEXED, DeliveryRow
from alerts.delivery.limits import Pace
from alerts.delivery.minhash import signature
from alerts.delivery.redis_ledger import row_of
from alerts.delivery.stages import assign_story
from alerts.delivery.stories import Placement, RedisStories, bands, place_by_parts
from alerts.delivery.straight import place_and_begin
from alerts.models import Item
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps

PREFIX = "alerts:dlv:"


def both(redis_client):
    return {"memory": memory_store(), "redis": redis_store(redis_client)}


def index_state(client) -> dict[str, set[str]]:
    """Every ledger index of the Redis store: key -> members."""
    keys = [k.decode() for k in client.keys(f"{PREFIX}idx:*")] + [f"{PREFIX}wake"]
    return {k: {m.decode() for m in client.zrange(k, 0, -1)} for k in keys}


def assert_indexes_match_rows(client) -> None:
    """Each row is in idx:all, its watch index, exactly its status index when final, wake
    when in flight (and no status index then) at its wake time (+inf without one)."""
    state = index_state(client)
    rows = [row_of(client.get(k)) for k in client.keys(f"{PREFIX}row:*")]
    for row in rows:
        assert row.id in state[f"{PREFIX}idx:all"]
        assert row.id in state[f"{PREFIX}idx:watch:{row.watch}"]
        where = [s for s in STATUSES if row.id in state.get(f"{PREFIX}idx:status:{s}", set())]
        if row.id in state[f"{PREFIX}wake"]:
            where.append("open")
        expected = [row.status] if row.status in FINAL - UNINDEXED else ["open"]
        expected = [] if row.status in UNINDEXED else expected
        assert where == expected, (row.id, row.status, where)
        score = client.zscore(f"{PREFIX}wake", row.id)
        assert (score is not None) == (row.status not in FINAL), (row.id, row.status)
        if score is not None:  # a row in flight without a wake time is never woken
            assert score == (row.wake_at.timestamp() if row.wake_at else float("inf"))
    assert len(state[f"{PREFIX}idx:all"]) == len(rows)


def test_ledger_operations_agree_and_keep_indexes_consistent(redis_client):
    stores = both(redis_client)
    results: dict[str, list[object]] = {}
    for name, store in stores.items():
        led, out = store.ledger, []
        rows = [
            DeliveryRow.new(make_alert(n, watch=f"w{n % 2}"), "ops", T0 + timedelta(seconds=n))
            for n in range(4)
        ]
        for r in rows:
            out.append(led.insert(r.model_copy(update={"wake_at": T0})))
        out.append(led.insert(rows[0].moved("dead", T0)) == rows[0].model_copy(
            update={"wake_at": T0}))  # fmt: skip
        sending = rows[0].moved("sending", T0, attempts=1, wake_at=T0 + timedelta(seconds=60))
        out.append(led.begin_send(sending, "tok-a", 60, T0))
        out.append(led.begin_send(sending, "tok-b", 60, T0 + timedelta(seconds=10)))  # held
        out.append(led.finish(sending.moved("sent", T0), "tok-a"))
        out.append(led.lookup(rows[0].id, T0)[1])  # released with the write
        out.append(led.begin_send(sending, "tok-c", 60, T0))  # final already
        out.append(led.lookup(rows[0].id, T0)[1])
        out.append(led.save(rows[0]))  # a stale pending copy never demotes sent
        out.append(led.finish(rows[0], "nobody"))
        # a lapsed claim: row left "sending" by a dead worker, our copy not flagged yet
        led.save(rows[1].moved("sending", T0, attempts=1))
        out.append(led.begin_send(rows[1].moved("sending", T0), "tok-d", 60, T0))
        out.append(led.lookup(rows[1].id, T0)[1])  # kept by the lapsed outcome
        flagged = rows[1].moved("sending", T0, possible_duplicate=True)
        led.release(rows[1].id, "tok-d")
        out.append(led.begin_send(flagged, "tok-e", 60, T0))
        out.append(led.finish(flagged.moved("retrying", T0, wake_at=T0), "tok-e"))
        out.append(led.lookup(rows[1].id, T0))
        out.append(led.save(rows[2].moved("silenced", T0)))
        out.append(led.save(rows[2], force=True))
        for status in (None, *STATUSES):
            out.append([r.id for r in led.query(status=status)])
        out.append([r.id for r in led.query(watch="w1")])
        out.append(sorted(r.id for r in led.waking(T0 + timedelta(hours=1))))  # ties by wake
        results[name] = out
    assert results["redis"] == results["memory"]
    assert_indexes_match_rows(redis_client)


def story_items(n: int, rng: random.Random) -> list[Item]:
    """Items drawn from a few headlines with random edits, so stories form and split."""
    heads = [
        "Explosions reported in Kaluga overnight, governor says drones were shot down",
        "Ceasefire talks resume in Geneva on Monday with both delegations present",
        "Grain corridor ships leave Odesa port under escort despite the warnings",
    ]
    out = []
    for i in range(n):
        words = rng.choice(heads).split()
        for _ in range(rng.randint(0, 6)):
            words[rng.randrange(len(words))] = rng.choice(["new", "late", "more", "again"])
        out.append(Item(id=f"s{i}", source="x", title=" ".join(words)))
    return out


def test_story_assignment_matches_the_brute_force_lsh_reference(redis_client):
    """The Lua lookup returns exactly the stories sharing a band, in the window, sorted."""
    deps_r = make_deps(store=redis_store(redis_client), story_window_seconds=600)
    items = story_items(40, random.Random(3))
    started: dict[str, tuple[bytes, object]] = {}  # story -> (sig, start)
    for i, item in enumerate(items):
        now = T0 + timedelta(seconds=30 * i)
        alert = make_alert(i).model_copy(update={"item": item})
        since = now - timedelta(seconds=600)
        sig = signature(item)
        mine = set(bands(sig))
        expected = sorted(
            (s, ssig)
            for s, (ssig, at) in started.items()
            if at >= since and mine & set(bands(ssig))
        )
        known, found = deps_r.store.stories.find(alert.watch, item.id, sig, since)
        assert known is None and found == expected
        story = assign_story(alert, now, deps_r)
        if story.id == alert.key:
            started[story.id] = (sig, now)
        assert assign_story(alert, now, deps_r) == story  # the second channel finds it


def test_deliver_over_redis_equals_deliver_over_memory(redis_client):
    """The same deliveries (sends, a 429, a permanent failure, twins) end the same way."""
    results = {}
    for name, store in both(redis_client).items():
        failures = {"slack": [SendResult(ok=False, retryable=True, error="429", retry_after=2.0)]}
        clock = FrozenClock(T0)
        deps = make_deps(store=store, clock=clock, notifier=RecordingNotifier(failures))
        outcomes = []
        for i in range(12):
            # Every third item repeats an earlier headline: a follow-up in both stores (the
            # memory store scans every story, Redis only those sharing an LSH band).
            alert = make_alert(i, channels=("ops", "slack"))
            if i % 3:
                same = make_alert(i - i % 3 + 100).item.model_copy(update={"id": f"item-{i}"})
                alert = alert.model_copy(update={"item": same})
            for channel in alert.channels:
                row = record_pending(alert, channel, deps=deps)
                pending = row if i % 2 else None  # with and without the row just recorded
                outcomes.append(deliver(alert, channel, deps=deps, pending=pending).model_dump())
                outcomes.append(deliver(alert, channel, deps=deps).status)  # a twin task
            clock.advance(seconds=3)
        rows = sorted(store.ledger.query(limit=1000), key=lambda r: r.id)
        results[name] = (outcomes, [r.model_dump(mode="json") for r in rows])
    assert results["redis"] == results["memory"]
    assert "digested" in str(results["redis"][0])  # follow-ups happened
    assert_indexes_match_rows(redis_client)


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_a_stale_pending_row_from_the_caller_still_meets_the_ledger(kind, redis_client):
    """The row handed to deliver may be stale: the claim step re-reads and finds it sent."""
    store = both(redis_client)[kind]
    deps = make_deps(store=store)
    alert = make_alert()
    row = record_pending(alert, "ops", deps=deps)
    assert deliver(alert, "ops", deps=deps, pending=row).status == "sent"
    assert deliver(alert, "ops", deps=deps, pending=row).status == "duplicate"
    sent = record_pending(alert, "ops", deps=deps)  # the caller sees the current row
    assert deliver(alert, "ops", deps=deps, pending=sent).status == "duplicate"
    assert deps.notifier.attempts["ops"] == 1


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_record_pending_keeps_an_existing_row(kind, redis_client):
    store = both(redis_client)[kind]
    deps = make_deps(store=store)
    alert = make_alert()
    first = record_pending(alert, "ops", deps=deps)
    assert deliver(alert, "ops", deps=deps).status == "sent"
    again = record_pending(alert, "ops", deps=deps)
    assert first.status == "pending" and again.status == "sent"
    assert store.ledger.get(first.id).status == "sent"


def test_story_place_in_one_call_equals_find_best_match_assign(redis_client):
    """``RedisStories.place`` (one Lua call) puts items where the three-step reference does."""
    lua = RedisStories(redis_client, "a:", 600)
    parts = RedisStories(redis_client, "b:", 600)
    placed: dict[str, list[str]] = {"lua": [], "parts": []}
    for i, item in enumerate(story_items(60, random.Random(5))):
        now = T0 + timedelta(seconds=20 * i)
        new = Placement(item.id, now - timedelta(seconds=600), now, 0.5)
        for _ in range(2):  # the second call finds the item's own story
            placed["lua"].append(lua.place("w", item.id, signature(item), new))
            placed["parts"].append(place_by_parts(parts, "w", item.id, signature(item), new))
    assert placed["lua"] == placed["parts"]
    assert len(set(placed["lua"])) < 60  # stories formed: some items joined another's


def test_story_pacing_and_claim_in_one_step_agree_with_memory(redis_client):
    """``straight.place_and_begin``: a new story is claimed with its placement, the item's own
    story on a second channel too, a follow-up comes back untouched with its thread ref, a
    claim held by another answers ``held``, and a paced channel's second send waits unclaimed;
    the memory stores answer the same."""
    got: dict[str, list[object]] = {}
    for name, store in both(redis_client).items():
        out: list[object] = []
        first = make_alert(1)
        near = first.model_copy(update={"item": first.item.model_copy(update={"id": "item-1b"})})
        for alert, channel in ((first, "ops"), (first, "slack"), (near, "slack"), (near, "ops")):
            new = Placement(alert.key, T0 - timedelta(hours=1), T0, 0.5, channel=channel)
            row = DeliveryRow.new(alert, channel, T0).moved("sending", T0, story=new.story)
            out.append(place_and_begin(store, signature(alert.item), new, row, ("tok", 60, T0)))
            if channel == "slack" and alert is first:
                store.stories.set_thread(alert.key, "slack", "111.222")
        row = DeliveryRow.new(first, "ops", T0).moved("sending", T0)
        new = Placement(first.key, T0 - timedelta(hours=1), T0, 0.5, channel="ops")
        out.append(place_and_begin(store, signature(first.item), new, row, ("other", 60, T0)))
        for n in (7, 8):  # 1 message/s on "paced": the second waits its slot, unclaimed
            alert = make_alert(n, watch=f"p{n}")
            new = Placement(alert.key, T0 - timedelta(hours=1), T0, 0.5, channel="paced")
            row = DeliveryRow.new(alert, "paced", T0).moved("sending", T0)
            pace = Pace("paced", 1.0, 1, row.key)
            out.append(place_and_begin(store, signature(alert.item), new, row, ("t", 60, T0), pace))
        got[name] = out
    assert got["redis"] == got["memory"]
    claimed, own, followup, _, held, go, wait = got["redis"]
    assert claimed.begun.outcome == own.begun.outcome == "claimed" and claimed.story == own.story
    assert (followup.story, followup.thread, followup.begun) == (claimed.story, "111.222", None)
    assert held.begun.outcome == "held"
    assert go.begun.outcome == "claimed" and (wait.begun, wait.wait) == (None, 1.0)
