"""The intake keeps accepted bulletins until ingested; memory and Redis behave alike."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.connection import AbstractConnection

from alerts.ingest.dedup import RedisSeenStore
from alerts.ingest.intake import Accepted, MemoryIntake, RedisIntake
from alerts.redis_conn import Durability, NotReplicated
from tests.support.replicated import frozen, master_and_replica

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def redis_url(own_redis_url: str) -> str:
    """This file's tests reach the whole server (INFO commandstats): a server of its own."""
    return own_redis_url


@pytest.fixture(params=["memory", "redis"])
def intake(request):
    if request.param == "memory":
        return MemoryIntake()
    return RedisIntake(request.getfixturevalue("redis_client"))


def bulletin(n: int) -> Accepted:
    return Accepted(f"b{n}", "api", f"Y29udGVudA{n}", "application/json" if n % 2 else None)


def test_due_bulletins_come_back_once_per_wake(intake) -> None:
    intake.add(bulletin(1), T0 + timedelta(seconds=15))
    intake.add(bulletin(2), T0 + timedelta(seconds=20))
    assert intake.due(T0, T0 + timedelta(seconds=30)) == []
    later = T0 + timedelta(seconds=45)
    assert intake.due(T0 + timedelta(seconds=16), later) == [bulletin(1)]
    assert intake.due(T0 + timedelta(seconds=21), later) == [bulletin(2)]  # 1 waits until 45
    assert intake.due(T0 + timedelta(seconds=45), later) == [bulletin(1), bulletin(2)]


def test_done_bulletins_never_come_back(intake) -> None:
    intake.add(bulletin(1), T0)
    intake.add(bulletin(2), T0)
    intake.done("b1")
    intake.done("nope")
    assert intake.due(T0 + timedelta(hours=1), T0 + timedelta(hours=2)) == [bulletin(2)]


def test_a_finished_bulletins_wake_entry_is_swept_when_due(redis_client) -> None:
    """``done`` deletes the body only (one command); ``due`` drops the wake entry."""
    intake = RedisIntake(redis_client)
    intake.add(bulletin(1), T0)
    intake.done("b1")
    assert redis_client.zcard("alerts:ingest:intake:wake") == 1
    assert intake.due(T0, T0 + timedelta(seconds=5)) == []
    assert redis_client.zcard("alerts:ingest:intake:wake") == 0


def test_finished_bulletins_never_hide_a_kept_one(redis_client) -> None:
    """More finished wake entries than a chunk, then a lost bulletin: one ``due`` sweeps them
    all and finds it."""
    intake = RedisIntake(redis_client)
    with redis_client.pipeline(transaction=False) as pipe:
        for n in range(1200):
            intake._queue_add(pipe, bulletin(n), T0 + timedelta(milliseconds=n))
            intake.queue_done(pipe, f"b{n}")
        pipe.execute()
    intake.add(bulletin(9999), T0 + timedelta(seconds=2))
    assert intake.due(T0 + timedelta(seconds=3), T0 + timedelta(seconds=60), 1) == [bulletin(9999)]
    assert redis_client.zcard("alerts:ingest:intake:wake") == 1


def test_a_durable_intake_waits_for_its_replica() -> None:
    """With ``redis_replicas: 1`` a bulletin is kept only once the replica holds it: a frozen
    replica makes ``add`` fail (the API answers 503, the client retries) instead of promising a
    bulletin that a failover would roll back. Without it, ``add`` answers at once."""
    with master_and_replica() as (master, replica):
        client = redis.Redis(port=master.port)
        durable = RedisIntake(client, Durability(replicas=1, timeout_ms=200))
        durable.add(bulletin(1), T0)
        assert redis.Redis(port=replica.port).hexists("alerts:ingest:intake", "b1")
        with frozen(replica):
            started = time.monotonic()
            with pytest.raises(NotReplicated, match="0 of 1 replica"):
                durable.add(bulletin(2), T0)
            assert time.monotonic() - started >= 0.15  # it waited for the replica
            RedisIntake(client).add(bulletin(3), T0)  # the master alone: no wait
        assert isinstance(NotReplicated("x"), redis.RedisError)  # the API's 503 path


def test_commands_queued_after_the_write_share_its_round_trip(redis_client, monkeypatch) -> None:
    """The API queues its task message behind the intake write (``then``): one round trip for
    the new-item count, the write and the message."""
    sends: list[object] = []
    original = AbstractConnection.send_packed_command

    def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        sends.append(command)
        original(self, command, check_health)

    seen = RedisSeenStore(redis_client)
    seen.mark_seen(["i1"], T0)
    redis_client.ping()  # connected before counting
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    new = RedisIntake(redis_client).add_counting_new(
        bulletin(1), T0, seen, ["i1", "i2"], then=lambda pipe: pipe.lpush("queued", "task")
    )
    monkeypatch.undo()
    assert (new, len(sends)) == (1, 1)
    assert redis_client.lrange("queued", 0, -1) == [b"task"]
    assert redis_client.hexists("alerts:ingest:intake", "b1")


def test_the_asyncio_write_counts_and_keeps_alike(redis_url, redis_client) -> None:
    """``add_counting_new_async`` (the API's event loop) does what ``add_counting_new`` does, on
    redis-py's asyncio client of the same Redis: the new-item count, the write, what ``then``
    queued."""
    seen = RedisSeenStore(redis_client)
    seen.mark_seen(["i1"], T0)

    async def write() -> int:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            return await RedisIntake(redis_client).add_counting_new_async(
                client, [(bulletin(1), ["i1", "i2"])], T0, seen, lambda p: p.lpush("queued", "task")
            )
        finally:
            await client.aclose()

    assert asyncio.run(write()) == [1]
    assert redis_client.lrange("queued", 0, -1) == [b"task"]
    assert RedisIntake(redis_client).due(T0, T0 + timedelta(seconds=5)) == [bulletin(1)]


def test_several_bulletins_share_one_write_each_counted(redis_url, redis_client) -> None:
    """The API's group write: each bulletin kept and its own items counted (one without ids
    has no count command: the replies' offsets still line up), one task message after them."""
    seen = RedisSeenStore(redis_client)
    seen.mark_seen(["a1", "c2"], T0)
    wanted = [(bulletin(1), ["a1", "a2"]), (bulletin(2), []), (bulletin(3), ["c1", "c2", "c3"])]

    async def write() -> list[int]:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            return await RedisIntake(redis_client).add_counting_new_async(
                client, wanted, T0, seen, lambda p: p.lpush("queued", "task")
            )
        finally:
            await client.aclose()

    assert asyncio.run(write()) == [1, 0, 2]
    assert redis_client.lrange("queued", 0, -1) == [b"task"]
    kept = RedisIntake(redis_client).due(T0, T0 + timedelta(seconds=5))
    assert sorted(b.id for b in kept) == sorted(b.id for b, _ in wanted)


def test_the_asyncio_write_waits_for_its_replica_too() -> None:
    """A frozen replica fails the API's asyncio write as it fails ``add``: ``NotReplicated``."""
    with master_and_replica() as (master, replica):
        durable = RedisIntake(redis.Redis(port=master.port), Durability(replicas=1, timeout_ms=200))
        seen = RedisSeenStore(redis.Redis(port=master.port))

        async def write(n: int) -> int:
            client = redis.asyncio.Redis(port=master.port)
            try:
                (new,) = await durable.add_counting_new_async(
                    client, [(bulletin(n), ["i"])], T0, seen
                )
                return new
            finally:
                await client.aclose()

        assert asyncio.run(write(1)) == 1
        with frozen(replica), pytest.raises(NotReplicated, match="0 of 1 replica"):
            asyncio.run(write(2))


@pytest.mark.parametrize(
    ("marked", "ids", "new"),
    [
        (["i1", "i3"], ["i1", "i2", "i3", "i4", "i5"], 3),
        ([], ["i1", "i2"], 2),
        (["i1"], ["i1"], 0),
        (["i1"], [], 0),  # nothing to count: no EXISTS, the write alone
    ],
)
def test_the_new_items_are_counted_with_one_command(
    redis_client, marked: list[str], ids: list[str], new: int
) -> None:
    """One EXISTS of every item's key, however many items (it was one per item)."""
    seen = RedisSeenStore(redis_client)
    seen.mark_seen(marked, T0)
    before = _commands(redis_client)
    assert RedisIntake(redis_client).add_counting_new(bulletin(1), T0, seen, ids) == new
    counted = _commands(redis_client) - before
    assert counted["exists"] == (1 if ids else 0)
    assert counted["hset"] == counted["zadd"] == 1


def _commands(client: redis.Redis) -> Counter[str]:
    stats = client.info("commandstats")
    return Counter({k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()})


@pytest.mark.parametrize(
    ("source", "content_b64", "content_type"),
    [
        ("bench", "eyJpdGVtcyI6IFtdfQ==", "application/json"),  # base64: placed as it is
        ("desk", "", None),
        ('a"b', "YWJj+/9=", 'text/plain; charset="utf-8"'),  # the other fields escaped
        ("desk", 'not "base64"\n', None),  # not base64: through the encoder
        ("desk", "ünï", None),
    ],
)
def test_the_intake_entry_is_the_encoders_json(
    source: str, content_b64: str, content_type: str | None
) -> None:
    import json

    from alerts.ingest.intake import _ENCODE, _entry

    bulletin = Accepted("b1", source, content_b64, content_type)
    text = _entry(bulletin)
    assert text == _ENCODE([source, content_b64, content_type])
    assert json.loads(text) == [source, content_b64, content_type]
