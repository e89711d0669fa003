"""Shared fixtures: a real, empty Redis around each test that asks for one (like rq's tests)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.redis_server import RedisServer, resolve_test_redis_url

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLE = SHARED / "samples" / "live-bulletin.txt"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis database reserved for tests ($ALERTS_TEST_REDIS_URL, database 15 by
    default; under pytest-xdist, worker N takes the database N below it: ``xdist_database``)."""
    url, server = resolve_test_redis_url()
    yield url
    if server is not None:
        server.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on the test database, flushed before and after the test."""
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def own_redis_url() -> Iterator[str]:
    """The URL of a Redis server of the module's own (database 0). For a file whose tests reach
    the whole server (CLIENT KILL, CONFIG RESETSTAT, INFO commandstats, SCRIPT FLUSH), which would
    disturb the tests that run beside it under pytest-xdist: it names it its ``redis_url``."""
    server = RedisServer().start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="module")
def private_redis(own_redis_url: str) -> Iterator[redis.Redis]:
    """A client of the module's own Redis server: counts (commandstats) and the script cache
    that no other test can touch."""
    client = redis.Redis.from_url(own_redis_url)
    yield client
    client.close()


@pytest.fixture
def sample_bulletin() -> Path:
    """The real live bulletin from ../shared/samples; skips when shared/ is absent."""
    if not SAMPLE.exists():
        pytest.skip("../shared/samples/live-bulletin.txt is not present")
    return SAMPLE


# Under pytest-xdist (``make test``) the end-to-end directories come first: their files are the
# longest (real workers, digests, mostly waiting), so they start side by side and the short tests
# fill in after them (with ``--no-loadscope-reorder``: xdist would put the files with the most
# tests first). The files whose limits assume a machine of their own (failovers, Redis restarts,
# a dead shard, the beat's standby) are marked ``serial``: ``make test`` runs them after, alone.
_LONG_FIRST = ("workers", "chaos")
_SERIAL = (
    "chaos/",
    "workers/test_sentinel_failover.py",
    "workers/test_beat_ha.py",
    "workers/test_shards.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the ``serial`` files; under pytest-xdist, put the end-to-end directories first."""
    tests = ROOT / "tests"

    def relative(item: pytest.Item) -> str:
        return item.path.relative_to(tests).as_posix() if item.path.is_relative_to(tests) else ""

    for item in items:
        if relative(item).startswith(_SERIAL):
            item.add_marker(pytest.mark.serial)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: 0 if relative(item).startswith(_LONG_FIRST) else 1)
