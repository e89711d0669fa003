"""LeanRedis: our commands skip redis-py's observability hooks, and nothing else changes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from alerts.redis_client import LeanRedis, LeanScript, lean_supported
from alerts.redis_conn import connect
from tests.support.redis_server import RedisServer


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A Redis of this test's own, to stop and start."""
    own = RedisServer().start()
    yield own
    own.close()


@pytest.fixture
def no_full_path(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Record each command that takes redis-py's whole path."""
    full: list[tuple[Any, ...]] = []
    original = redis.Redis._execute_command

    def recorded(self: Any, *args: Any, **options: Any) -> Any:
        full.append(args)
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "_execute_command", recorded)
    return full


def in_use(client: redis.Redis) -> int:
    return len(client.connection_pool._in_use_connections)  # type: ignore[attr-defined]


def test_a_plain_url_client_is_lean_and_runs_commands_and_scripts(
    server: RedisServer, no_full_path: list[tuple[Any, ...]]
) -> None:
    assert lean_supported()
    client = connect(server.url)
    assert type(client) is LeanRedis
    client.hset("h", mapping={"a": "1"})
    assert client.hmget("h", "a", "b") == [b"1", None]
    script = client.register_script("return redis.call('HGET', KEYS[1], ARGV[1])")
    assert isinstance(script, LeanScript)
    client.script_flush()  # the script is loaded again on NOSCRIPT, as redis-py does
    assert script(keys=["h"], args=["a"]) == b"1"
    assert client.register_script("return #KEYS + #ARGV")() == 0
    with pytest.raises(redis.ResponseError):
        client.execute_command("NO-SUCH-COMMAND")
    assert no_full_path == [] and in_use(client) == 0
    client.close()


def test_a_client_holding_one_connection_takes_redis_py_s_path(
    server: RedisServer, no_full_path: list[tuple[Any, ...]]
) -> None:
    client = LeanRedis.from_url(server.url, single_connection_client=True)
    assert client.ping() is True
    assert no_full_path == [("PING",)]
    client.close()


def test_a_connection_the_server_closed_is_replaced_before_the_command(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.set("k", "v")
    other = redis.Redis.from_url(server.url)
    assert other.client_kill_filter(_type="normal", skipme=True) >= 1
    assert client.get("k") == b"v"
    assert in_use(client) == 0
    other.close()
    client.close()


def test_an_outage_raises_connection_error_and_leaks_no_connection(server: RedisServer) -> None:
    client = connect(server.url, socket_timeout=1, socket_connect_timeout=1)
    client.set("k", "v")
    server.stop(kill=True)
    with pytest.raises(redis.ConnectionError):
        client.get("k")
    assert in_use(client) == 0
    server.start()
    assert client.set("k", "again") is True  # the same client reconnects once it is back
    client.close()


def test_a_script_run_in_a_pipeline_takes_redis_py_s_way(server: RedisServer) -> None:
    client = connect(server.url)
    script = client.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    client.script_flush()  # the pipeline loads it before it runs, as redis-py's Script does
    pipe = client.pipeline()
    script(keys=["n"], args=[2], client=pipe)
    script(keys=["n"], args=[3], client=pipe)
    assert pipe.execute() == [2, 5]
    assert script(keys=["n"], args=[1]) == 6
    client.close()
