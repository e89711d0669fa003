"""LeanRedis: our commands run on a kept connection (else a pooled one without redis-py's
observability hooks), and nothing else changes."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hiredis
import pytest
import redis
from redis._parsers.hiredis import NOT_ENOUGH_DATA
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError
from redis.himport import parse_himport_set_args
from redis.retry import Retry

from alerts import redis_client
from alerts.redis_client import (
    _DEFAULT_BOUND,
    LeanRedis,
    LeanScript,
    lean_supported,
)
from alerts.redis_conn import connect
from alerts.redis_kept import Kept, _Failing
from tests.support.redis_server import RedisServer, redis_binary


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
    assert no_full_path == [] and in_use(client) == 1  # the kept one, no other leaked
    client.close()
    assert in_use(client) == 0


def test_a_client_holding_one_connection_takes_redis_py_s_path(
    server: RedisServer, no_full_path: list[tuple[Any, ...]]
) -> None:
    client = LeanRedis.from_url(server.url, single_connection_client=True)
    assert client.ping() is True
    assert no_full_path == [("PING",)]
    client.close()


@pytest.mark.parametrize("bound", [1, 2, 99])
def test_a_bounded_pool_takes_redis_py_s_path_and_keeps_no_slot(
    server: RedisServer, no_full_path: list[tuple[Any, ...]], bound: int
) -> None:
    """A kept connection would hold one of ``max_connections`` for good: a pipeline (and a
    pubsub beside it) would find no connection left where ``redis.Redis`` finds one."""
    client = LeanRedis.from_url(server.url, max_connections=bound)
    pubsub = client.pubsub() if bound == 2 else None
    if pubsub is not None:
        pubsub.subscribe("c")
    assert client.set("k", "v") is True and client._kept is None  # type: ignore[attr-defined]
    pipe = client.pipeline()
    pipe.get("k")
    assert pipe.execute() == [b"v"] and no_full_path == [("SET", "k", "v")]
    if pubsub is not None:
        pubsub.close()
    client.close()


def test_a_connection_the_server_closed_is_replaced_before_the_command(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.set("k", "v")
    other = redis.Redis.from_url(server.url)
    assert other.client_kill_filter(_type="normal", skipme=True) >= 1
    assert client.get("k") == b"v"  # no retry: the connection's Retry has none
    assert in_use(client) == 1
    other.close()
    client.close()


def test_an_outage_raises_connection_error_and_leaks_no_connection(server: RedisServer) -> None:
    client = connect(server.url, socket_timeout=1, socket_connect_timeout=1)
    client.set("k", "v")
    server.stop(kill=True)
    with pytest.raises(redis.ConnectionError):
        client.get("k")
    assert in_use(client) == 1
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


def kept(client: redis.Redis) -> Kept:
    found = client._kept  # type: ignore[attr-defined]
    assert isinstance(found, Kept)
    return found


def test_the_kept_connection_stays_out_of_the_pool_and_is_given_back_on_close(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.set("k", "v")
    conn = kept(client).conn
    assert client.get("k") == b"v" and kept(client).conn is conn  # the same one again
    assert in_use(client) == 1 and not client.connection_pool._available_connections  # type: ignore[attr-defined]
    client.close()
    assert client._kept is None and in_use(client) == 0  # type: ignore[attr-defined]
    assert client.get("k") == b"v"  # a closed client opens again, as redis-py's does


def test_close_during_another_thread_s_command_does_not_give_its_connection_back(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.ping()
    conn = kept(client).conn
    pool = client.connection_pool
    with kept(client).busy:  # as if another thread were in a command on it
        client.close()
        assert conn not in pool._available_connections  # type: ignore[attr-defined]
    assert client.ping() is True and kept(client).conn is not conn
    client.close()


def test_another_thread_takes_a_pooled_connection_while_the_kept_one_is_busy(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.ping()
    with kept(client).busy:  # as if another thread were in a command on it
        assert client.incr("n") == 1
        assert len(client.connection_pool._available_connections) == 1  # type: ignore[attr-defined]
    threads = [threading.Thread(target=lambda: [client.incr("n") for _ in range(300)])]
    threads += [threading.Thread(target=lambda: [client.incr("n") for _ in range(300)])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert client.get("n") == b"601" and in_use(client) == 1
    client.close()


def in_child(check: Callable[[], bool]) -> bool:
    """``check`` run in a forked child (left without the parent's clean-ups): its answer."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, b"1" if check() else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    os.close(read)
    return answer == b"1"


def test_a_forked_child_never_uses_the_parent_s_connection(server: RedisServer) -> None:
    client = connect(server.url)
    client.set("k", "parent")
    parent_conn = kept(client).conn

    def own_connection() -> bool:  # the child: a connection of its own, the parent's left
        ok = client.get("k") == b"parent" and kept(client).conn is not parent_conn
        return ok and kept(client).conn.pid == os.getpid()

    assert in_child(own_connection)
    assert client.get("k") == b"parent" and kept(client).conn is parent_conn
    client.close()


def test_a_child_forked_while_a_connection_is_being_kept_keeps_its_own(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.ping()
    with redis_client._KEEPING:  # as if another thread were keeping one at the fork
        assert in_child(lambda: client.get("k") is None and kept(client).pid == os.getpid())
    client.close()


def test_a_failed_first_attempt_gets_the_connection_s_retry(
    server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = connect(server.url, retry=Retry(NoBackoff(), 1))
    client.set("k", "v")
    other = redis.Redis.from_url(server.url)
    monkeypatch.setattr(Kept, "ready", lambda self, pool: None)  # the closed socket unseen
    other.client_kill_filter(_type="normal", skipme=True)
    assert client.get("k") == b"v"  # failed once, reconnected and sent again by the Retry
    no_retry = connect(server.url)
    no_retry.ping()
    other.client_kill_filter(_type="normal", skipme=True)
    with pytest.raises(redis.ConnectionError):
        no_retry.get("k")  # redis-py's default: no retry, the error raised
    assert no_retry.get("k") == b"v"  # and the kept connection reconnects
    for each in (client, no_retry, other):
        each.close()


def test_error_replies_are_redis_py_s_exceptions_and_leave_the_connection_usable(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    client.set("s", "text")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        client.lpush("s", "x")
    with pytest.raises(NoScriptError):
        client.evalsha("0" * 40, 0)
    assert client.get("s") == b"text" and client.set("s", "v", get=True) == b"text"
    assert client.hgetall("none") == {} and client.exists("s", "none") == 1
    client.close()


def test_the_redis_py_internals_the_kept_path_reads(server: RedisServer) -> None:
    """redis-py 8.2: a connection's socket in ``_sock``, its hiredis reader in
    ``_parser._reader`` (answering ``NOT_ENOUGH_DATA`` for half a reply), its read buffer,
    the RESP2 fallback flag, HIMPORT's detector; if these move, the kept path would check
    every command the slow way, or read a reply wrong."""
    client = connect(server.url)
    client.ping()
    conn = kept(client).conn
    assert isinstance(conn._sock, socket.socket) and conn._resp2_fallback is False
    assert isinstance(conn._parser._reader, hiredis.Reader)
    assert isinstance(conn._parser._buffer, bytearray) and kept(client).direct
    conn._parser._reader.feed(b"$5\r\nab")  # half a reply: the reader's own "not yet"
    assert conn._parser._reader.gets() is NOT_ENOUGH_DATA
    conn.disconnect()  # that half reply left in its reader: not a connection to use again
    assert parse_himport_set_args(("HIMPORT", "SET", "k", "f", "v")) is not None
    assert redis.ConnectionPool().max_connections == _DEFAULT_BOUND  # the default: kept path
    client.close()


class Interrupted(BaseException):
    """A signal's exception in the middle of a read (Celery's soft time limit is one)."""


def failed_read(client: redis.Redis, conn: Any, fault: BaseException | None) -> tuple[Any, ...]:
    """What ``client.get`` raised with ``conn``'s next read failing, and whether ``conn`` was
    dropped."""
    conn._sock = conn._parser._sock = _Failing(conn._sock, fault)  # plain redis-py's too
    with pytest.raises(BaseException) as raised:
        client.get("k")
    return type(raised.value), str(raised.value), conn._sock is None


@pytest.mark.parametrize(
    "fault",
    [
        None,
        TimeoutError("timed out"),
        ConnectionResetError(104, "Connection reset by peer"),
        Interrupted(),
    ],
    ids=["closed", "timeout", "reset", "interrupted"],
)
def test_a_failed_read_is_redis_py_s_error_and_drops_the_connection(
    server: RedisServer, fault: BaseException | None
) -> None:
    plain = redis.Redis.from_url(server.url)
    plain.ping()
    theirs = failed_read(plain, plain.connection_pool._available_connections[0], fault)  # type: ignore[attr-defined]
    client = connect(server.url)
    client.ping()
    assert failed_read(client, kept(client).conn, fault) == theirs
    assert theirs[2] is True  # dropped: the next command reconnects
    assert client.set("k", "v") is True and client.get("k") == b"v"
    plain.close()
    client.close()


def test_push_notifications_on_the_kept_connection_are_redis_py_s_to_handle(
    server: RedisServer,
) -> None:
    client = connect(server.url)
    other = redis.Redis.from_url(server.url)
    client.execute_command("CLIENT", "TRACKING", "ON")  # invalidations pushed (RESP3)
    client.set("k", "1")
    assert client.get("k") == b"1"  # tracked: a change pushes an invalidation to us

    def change_then_push() -> None:
        other.set("k", "2")  # the invalidation comes in while we wait for the reply
        other.lpush("q", "x")

    later = threading.Timer(0.3, change_then_push)
    later.start()
    assert client.blpop(["q"], 5) == (b"q", b"x")  # the push handled, the reply read on
    later.join()
    assert client.get("k") == b"2" and client.incr("n") == 1 and in_use(client) == 1
    other.close()
    client.close()


def test_a_unix_socket_client_takes_the_kept_path(tmp_path: Path) -> None:
    path = tmp_path / "redis.sock"
    args = [redis_binary(), "--port", "0", "--unixsocket", str(path), "--save", ""]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        client = connect(f"unix://{path}")
        assert client.set("k", "v") is True and client.get("k") == b"v"
        assert kept(client).direct and kept(client).conn._sock.family == socket.AF_UNIX
        assert client.register_script("return ARGV[1]")(args=["x"]) == b"x"
        client.close()
    finally:
        proc.kill()
        proc.wait(10)
