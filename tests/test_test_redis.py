"""The tests' own Redis: under pytest-xdist each worker flushes a database of its own."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.redis_server import RedisServer, xdist_database


@pytest.mark.parametrize(
    ("worker", "expected"),
    [
        (None, "redis://127.0.0.1:6379/15"),
        ("master", "redis://127.0.0.1:6379/15"),
        ("gw0", "redis://127.0.0.1:6379/15"),
        ("gw1", "redis://127.0.0.1:6379/14"),
        ("gw3", "redis://127.0.0.1:6379/12"),
    ],
)
def test_each_xdist_worker_has_its_own_database(worker: str | None, expected: str) -> None:
    assert xdist_database("redis://127.0.0.1:6379/15", worker) == expected


def test_the_database_number_wraps_and_a_url_without_one_starts_at_0() -> None:
    assert xdist_database("redis://127.0.0.1:6379/0", "gw1") == "redis://127.0.0.1:6379/15"
    assert xdist_database("redis://127.0.0.1:6379", "gw1") == "redis://127.0.0.1:6379/15"


def test_a_servers_log_keeps_what_it_printed() -> None:
    server = RedisServer().start()
    try:
        assert "Ready to accept connections" in server.log_tail()
    finally:
        server.close()


@contextmanager
def taken_port() -> Iterator[int]:
    """A port another process listens on for the block (as if it took free_port's port)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_a_first_start_on_a_taken_port_tries_another() -> None:
    with taken_port() as port:
        server = RedisServer()
        server.port = port
        try:
            assert server.start().port != port
        finally:
            server.close()


def test_a_given_port_that_is_taken_fails_with_the_servers_log() -> None:
    with taken_port() as port:
        server = RedisServer(port=port)
        try:
            with pytest.raises(RuntimeError, match="did not start"):
                server.start()
        finally:
            server.close()
