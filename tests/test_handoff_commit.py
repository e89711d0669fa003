"""The hand-on's one write on a real Redis: one script by digest, its text after NOSCRIPT.

A private Redis (``private_redis``): ``SCRIPT FLUSH`` empties the script cache of the whole
server, which other tests on a shared one would see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from redis.connection import AbstractConnection

from alerts.clock import FrozenClock
from alerts.delivery import redis_store
from alerts.delivery.reconcile import pending_row
from alerts.delivery.silences import add_silence
from alerts.handoff import Handoff
from alerts.handoff_commit import commit, write
from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore
from alerts.ingest.intake import INTAKE_KEY, Accepted, RedisIntake
from alerts.models import Alert
from tests.delivery.helpers import T0, make_alert, make_deps


@pytest.fixture
def client(private_redis: redis.Redis) -> redis.Redis:
    private_redis.flushall()
    return private_redis


@pytest.fixture
def h(client: redis.Redis) -> Handoff:
    clock = FrozenClock(T0)
    return Handoff(
        seen=RedisSeenStore(client),
        archive=RedisItemArchive(client),
        delivery=make_deps(store=redis_store(client), clock=clock, paced_channels=[]),
        clock=clock,
        enqueue=lambda *_: None,
        intake=RedisIntake(client),
    )


def trips(run: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[bytes]]:
    """What ``run`` returns, and the first word of each command packet it sent."""
    sent: list[bytes] = []
    send = AbstractConnection.send_packed_command

    def counting(self: Any, command: Any, check_health: bool = True) -> None:
        packed = b"".join(command) if isinstance(command, list) else command
        sent.append(packed.split(b"\r\n", 3)[2])  # *N, $len, then the name
        send(self, command, check_health)

    with monkeypatch.context() as m:
        m.setattr(AbstractConnection, "send_packed_command", counting)
        return run(), sent


def bulletin(h: Handoff, alert: Alert) -> str:
    """The API's intake entry for the bulletin of ``alert``'s item; its id."""
    assert h.intake is not None
    h.intake.add(Accepted(f"b-{alert.item.id}", "test", "", None), T0)
    return f"b-{alert.item.id}"


def archived(client: redis.Redis, item_id: str) -> bool:
    """Whether the archive holds the item (its JSON and its index entry)."""
    index = client.zscore(RedisItemArchive(client).index, item_id) is not None
    return bool(client.exists(RedisItemArchive(client).key(item_id))) and index


def test_the_write_is_one_script_by_digest_and_its_text_after_noscript(client, h, monkeypatch):
    add_silence(h.delivery.store.silences, "w-x", timedelta(hours=1), T0)
    for n, flush in ((1, True), (2, False)):
        alert = make_alert(n)
        done = bulletin(h, alert)
        if flush:
            client.script_flush()
        rows = [pending_row(alert, "ops", h.clock(), h.delivery)]
        write_new = functools.partial(write, h, rows, [alert.item], (done,), check=True)
        (recorded, silences, new, _), sent = trips(write_new, monkeypatch)
        # NOSCRIPT wrote nothing: the text follows, once; else the digest alone
        assert sent == ([b"EVALSHA", b"EVAL"] if flush else [b"EVALSHA"]), sent
        assert new == [alert.item] and recorded == rows
        assert [s.watch for s in silences] == ["w-x"]
        assert h.seen.unseen([alert.item.id]) == [] and archived(client, alert.item.id)
        assert not client.hexists(INTAKE_KEY, done)
        assert h.delivery.store.ledger.get(rows[0].id) is not None


def test_a_seen_item_is_neither_recorded_nor_archived_and_its_bulletin_is_released(client, h):
    old, new = make_alert(1), make_alert(2)
    h.seen.mark_seen([old.item.id], T0)
    done = bulletin(h, old)
    rows = [pending_row(a, "ops", h.clock(), h.delivery) for a in (old, new)]
    recorded, _, fresh = write(h, rows, [old.item, new.item], (done,), check=True)[:3]
    assert fresh == [new.item] and recorded == rows[1:]
    assert h.delivery.store.ledger.get(rows[0].id) is None
    assert not archived(client, old.item.id) and archived(client, new.item.id)
    assert not client.hexists(INTAKE_KEY, done)


def test_checked_items_are_all_recorded_and_marked_and_a_row_found_comes_back(h):
    alert = make_alert(1)
    h.seen.mark_seen([alert.item.id], T0)  # checked before: marked again all the same
    first = pending_row(alert, "ops", h.clock(), h.delivery)
    assert commit(h, [first], [alert.item], ())[0] == [first]
    h.clock.advance(seconds=5)  # type: ignore[attr-defined]  # a FrozenClock
    again = pending_row(alert, "ops", h.clock(), h.delivery)
    recorded, silences = commit(h, [again], [alert.item], ())
    assert recorded[0] is not again and recorded[0].created_at == first.created_at
    assert silences == []
    assert h.seen.unseen([alert.item.id]) == []


def test_an_alerting_item_costs_the_write_nine_commands(client, h):
    """EVALSHA; inside it one SET that checks, archives and marks the item, the row's SET and
    its three index entries, the archive's ZADD, the intake's HDEL and the silences' HGETALL."""
    alert = make_alert(1)
    done = bulletin(h, alert)
    first = make_alert(0)  # loads the script; the archive's index trimmed (once a minute)
    write(h, [pending_row(first, "ops", h.clock(), h.delivery)], [first.item], (), check=True)[:3]
    client.config_resetstat()
    write(h, [pending_row(alert, "ops", h.clock(), h.delivery)], [alert.item], (done,), check=True)[
        :3
    ]
    stats = client.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    calls = {k: n for k, n in calls.items() if not k.startswith("config")}
    assert calls == {"evalsha": 1, "set": 2, "zadd": 4, "hdel": 1, "hgetall": 1}, calls
