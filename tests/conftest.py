"""Shared fixtures: a real, empty Redis around each test that asks for one (like rq's tests)."""

from __future__ import annotations

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
    """URL of a real Redis database reserved for tests (database 15)."""
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
def private_redis() -> Iterator[redis.Redis]:
    """A Redis server of the module's own: counts (commandstats) and the script cache that no
    other test can touch."""
    server = RedisServer().start()
    try:
        yield redis.Redis.from_url(server.url)
    finally:
        server.stop()


@pytest.fixture
def sample_bulletin() -> Path:
    """The real live bulletin from ../shared/samples; skips when shared/ is absent."""
    if not SAMPLE.exists():
        pytest.skip("../shared/samples/live-bulletin.txt is not present")
    return SAMPLE


# The end-to-end directories first: their files are the longest (real workers, digests,
# failovers, mostly waiting), so with pytest-xdist (``make test``) they start at once, side by
# side, and the short tests fill in after them instead of one long file running alone at the end.
_LONG_FIRST = ("workers", "chaos")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the end-to-end directories' tests first, each file's tests kept in their order."""

    def rank(item: pytest.Item) -> int:
        parts = item.path.relative_to(ROOT / "tests").parts
        return 0 if len(parts) > 1 and parts[0] in _LONG_FIRST else 1

    items.sort(key=rank)  # stable: the order within each rank stays
