"""``OneTrip``: the intake's commands in one write, with a pipeline's replies and its care for
the pooled connection (errors, cancellation, a connection the server dropped)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ResponseError

from alerts.ingest.onetrip import OneTrip

Body = Callable[[redis.asyncio.Redis], Awaitable[Any]]


@pytest.fixture(scope="module")
def redis_url(own_redis_url: str) -> str:
    """This file's tests reach the whole server (CLIENT KILL): a server of its own."""
    return own_redis_url


def _on_client(redis_url: str, body: Body) -> Any:
    async def run() -> Any:
        client = redis.asyncio.Redis.from_url(redis_url)
        try:
            return await body(client)
        finally:
            await client.aclose()

    return asyncio.run(run())


def _queued(client: redis.asyncio.Redis) -> OneTrip:
    trip = OneTrip(client)
    trip.exists("k:1", "k:2", "k:3")
    trip.hset("h", "f", "é 1")
    trip.zadd("z", {"a": 1.5, "b": 1733395200.123456})
    trip.lpush("l", "x", b"y")
    return trip


def test_the_replies_are_a_pipelines(redis_url: str, redis_client: redis.Redis) -> None:
    redis_client.set("k:2", "1")

    async def both(client: redis.asyncio.Redis) -> tuple[list[Any], list[Any]]:
        ours = await _queued(client).execute()
        redis_client.delete("h", "z", "l")
        async with client.pipeline(transaction=False) as pipe:  # the same, on redis-py's
            pipe.exists("k:1", "k:2", "k:3")
            pipe.hset("h", "f", "é 1")
            pipe.zadd("z", {"a": 1.5, "b": 1733395200.123456})
            pipe.lpush("l", "x", b"y")
            theirs = await pipe.execute()
        return ours, theirs

    ours, theirs = _on_client(redis_url, both)
    assert ours == theirs == [1, 1, 2, 2]
    assert redis_client.hget("h", "f") == "é 1".encode()
    assert redis_client.zscore("z", "b") == 1733395200.123456
    assert redis_client.lrange("l", 0, -1) == [b"y", b"x"]


def test_an_error_reply_is_raised_after_every_reply_is_read(
    redis_url: str, redis_client: redis.Redis
) -> None:
    redis_client.set("h", "a string")

    async def run(client: redis.asyncio.Redis) -> list[Any]:
        with pytest.raises(ResponseError, match="WRONGTYPE"):
            await _queued(client).execute()
        redis_client.delete("h")
        return await _queued(client).execute()  # the same connection, still in step

    assert _on_client(redis_url, run) == [0, 1, 0, 4]  # the commands after the error ran


def test_a_cancelled_read_drops_its_connection(redis_url: str, redis_client: redis.Redis) -> None:
    async def run(client: redis.asyncio.Redis) -> list[Any]:
        slow = OneTrip(client)
        slow.commands.append(("BLPOP", "never", 2))  # a reply that comes in 2 s
        task = asyncio.ensure_future(slow.execute())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await _queued(client).execute()  # not BLPOP's late reply

    assert _on_client(redis_url, run) == [0, 1, 2, 2]


def test_a_connection_the_server_closed_fails_once_as_a_pipeline_does(
    redis_url: str, redis_client: redis.Redis
) -> None:
    async def run(client: redis.asyncio.Redis) -> list[Any]:
        await _queued(client).execute()  # a pooled connection
        redis_client.client_kill_filter(_type="normal", skipme=True)
        with pytest.raises(redis.ConnectionError):  # no retries by default, as redis-py's
            await _queued(client).execute()
        return await _queued(client).execute()  # a new connection

    assert _on_client(redis_url, run) == [0, 0, 0, 4]  # the failed one wrote nothing


def test_the_clients_retry_policy_applies(redis_url: str, redis_client: redis.Redis) -> None:
    async def run() -> list[Any]:
        client = redis.asyncio.Redis.from_url(redis_url, retry=Retry(NoBackoff(), 1))
        try:
            await _queued(client).execute()
            redis_client.client_kill_filter(_type="normal", skipme=True)
            return await _queued(client).execute()  # retried on a new connection
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [0, 0, 0, 4]  # written once, by the retry


def test_nothing_queued_sends_nothing(redis_url: str) -> None:
    assert _on_client(redis_url, lambda client: OneTrip(client).execute()) == []


def test_a_trip_past_the_socket_timeout_fails_as_redis_pys_and_drops_its_connection(
    redis_url: str,
) -> None:
    async def run() -> list[Any]:
        client = redis.asyncio.Redis.from_url(redis_url, socket_timeout=0.3)
        try:
            slow = OneTrip(client)
            slow.commands.append(("BLPOP", "never", 2))  # its reply comes in 2 s
            with pytest.raises(redis.TimeoutError):  # one timeout for the whole trip
                await slow.execute()
            return await _queued(client).execute()  # not BLPOP's late reply
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [0, 1, 2, 2]


def test_a_kept_connection_serves_the_next_trips_without_the_pool(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[Any] = []
    real = redis.asyncio.ConnectionPool.get_connection

    async def counted(pool: Any) -> Any:
        conn = await real(pool)
        taken.append(conn)
        return conn

    monkeypatch.setattr(redis.asyncio.ConnectionPool, "get_connection", counted)

    async def run(client: redis.asyncio.Redis) -> list[Any]:
        for _ in range(3):
            await _queued(client).execute()
        return [await _queued(client).execute(), client.connection_pool._in_use_connections]

    replies, in_use = _on_client(redis_url, run)
    assert len(taken) == 1 and in_use == {taken[0]}  # taken once, still the pool's
    assert replies == [0, 0, 0, 8]


def test_replies_are_read_from_hiredis_in_one_loop(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def not_this_way(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("redis-py's read, once per reply")

    async def run(client: redis.asyncio.Redis) -> list[Any]:
        await _queued(client).execute()  # connected (redis-py reads its handshake's replies)
        monkeypatch.setattr(redis.asyncio.Connection, "read_response", not_this_way)
        return await _queued(client).execute()

    assert _on_client(redis_url, run) == [0, 0, 0, 4]


def test_a_kept_connection_the_server_closed_is_replaced_as_the_pool_would(
    redis_url: str, redis_client: redis.Redis
) -> None:
    async def run(client: redis.asyncio.Redis) -> list[Any]:
        await _queued(client).execute()
        redis_client.client_kill_filter(_type="normal", skipme=True)
        await asyncio.sleep(0.2)  # the loop reads the close: the connection is at its end
        return await _queued(client).execute()  # no error: a new connection

    assert _on_client(redis_url, run) == [0, 0, 0, 4]


@pytest.mark.parametrize("protocol", [2, 3])
def test_both_protocols_read_the_same_replies(
    redis_url: str, redis_client: redis.Redis, protocol: int
) -> None:
    async def run() -> list[Any]:
        client = redis.asyncio.Redis.from_url(redis_url, protocol=protocol)
        try:
            await _queued(client).execute()
            return await _queued(client).execute()
        finally:
            await client.aclose()

    assert asyncio.run(run()) == [0, 0, 0, 4]
