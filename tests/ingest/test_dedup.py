"""Seen-id stores and the item archive, in memory and on a real Redis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis

from alerts.ingest.dedup import (
    TRIM_EVERY,
    MemoryItemArchive,
    MemorySeenStore,
    RedisItemArchive,
    RedisSeenStore,
    remember,
)
from alerts.models import Item

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def redis_url(own_redis_url: str) -> str:
    """This file's tests reach the whole server (CONFIG RESETSTAT): a server of its own."""
    return own_redis_url


def _item(n: int) -> Item:
    return Item(id=f"c:{n:032x}", source="s", title=f"Title {n}", body="b")


@pytest.fixture(params=["memory", "redis"])
def seen_store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemorySeenStore(timedelta(days=7))
    client: redis.Redis = request.getfixturevalue("redis_client")
    return RedisSeenStore(client, timedelta(days=7))


def test_unseen_then_marked(seen_store: Any) -> None:
    assert seen_store.unseen(["a", "b", "a"]) == ["a", "b"]
    seen_store.mark_seen(["a"], NOW)
    assert seen_store.unseen(["a", "b", "c"]) == ["b", "c"]


def test_claim_returns_only_new_ids(seen_store: Any) -> None:
    assert seen_store.claim(["a", "b"], NOW) == ["a", "b"]
    assert seen_store.claim(["b", "c"], NOW) == ["c"]
    assert seen_store.unseen(["a", "b", "c", "d"]) == ["d"]


def test_memory_store_forgets_after_retention() -> None:
    store = MemorySeenStore(timedelta(days=7))
    store.mark_seen(["old"], NOW)
    store.mark_seen(["new"], NOW + timedelta(days=8))
    assert store.unseen(["old", "new"]) == ["old"]


def test_redis_seen_keys_expire_with_retention(redis_client: redis.Redis) -> None:
    store = RedisSeenStore(redis_client, timedelta(hours=1))
    store.mark_seen(["a"], NOW)
    assert 3500 < redis_client.ttl("alerts:ingest:seen:a") <= 3600


@pytest.fixture(params=["memory", "redis"])
def archive_factory(request: pytest.FixtureRequest) -> Callable[[timedelta], Any]:
    if request.param == "memory":
        return MemoryItemArchive
    client: redis.Redis = request.getfixturevalue("redis_client")
    return lambda retention: RedisItemArchive(client, retention, batch=2)


def test_archive_iter_since(archive_factory: Callable[[timedelta], Any]) -> None:
    archive = archive_factory(timedelta(days=7))
    archive.add([_item(1), _item(2)], NOW)
    archive.add([_item(3), _item(4), _item(5)], NOW + timedelta(hours=1))
    since = [i.id for i in archive.iter_since(NOW + timedelta(minutes=30))]
    assert since == [_item(n).id for n in (3, 4, 5)]
    everything = list(archive.iter_since(NOW - timedelta(days=1)))
    assert everything[0] == _item(1) and len(everything) == 5


def test_archive_drops_items_past_retention(archive_factory: Callable[[timedelta], Any]) -> None:
    archive = archive_factory(timedelta(days=1))
    archive.add([_item(1)], NOW)
    archive.add([_item(2)], NOW + timedelta(days=2))
    assert [i.id for i in archive.iter_since(NOW - timedelta(days=9))] == [_item(2).id]


def test_archive_index_never_holds_an_entry_long_past_retention(redis_client: redis.Redis) -> None:
    """The index is trimmed once a minute per process, not on every write: an entry past the
    retention is gone within ``TRIM_EVERY``, and a write in between costs no trim."""
    archive = RedisItemArchive(redis_client, timedelta(minutes=2))
    kept_past = 0
    for n in range(60):  # a write every 5 s for 5 minutes
        now = NOW + timedelta(seconds=5 * n)
        archive.add([_item(n)], now)
        oldest = redis_client.zrange("alerts:ingest:archive", 0, 0, withscores=True)[0][1]
        age = now.timestamp() - oldest
        assert age <= (timedelta(minutes=2) + TRIM_EVERY).total_seconds(), (n, age)
        kept_past += age > timedelta(minutes=2).total_seconds()
    assert kept_past > 0  # not trimmed on every write


def test_same_story_from_two_sources_alerts_once(seen_store: Any) -> None:
    from pathlib import Path

    from alerts.ingest import parse_bulletin

    rss = parse_bulletin(
        (Path(__file__).parent / "fixtures" / "harbour.rss").read_bytes(), source="rss"
    )
    pushed = parse_bulletin(
        b'{"title": "Rail strike is off", "url": "HTTPS://Harbour.example/news/rail?utm_source=x"}',
        source="api",
    )
    assert len(seen_store.claim([i.id for i in rss], NOW)) == 3
    assert seen_store.claim([i.id for i in pushed], NOW) == []  # same normalised URL
    # and the next poll of the same feed brings nothing new
    assert seen_store.unseen([i.id for i in rss]) == []


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_remember_archives_then_marks_seen(kind: str, request: pytest.FixtureRequest) -> None:
    """One pipeline over Redis (archive first, then seen), two calls in memory: same result."""
    if kind == "redis":
        client: redis.Redis = request.getfixturevalue("redis_client")
        seen: Any = RedisSeenStore(client)
        archive: Any = RedisItemArchive(client)
    else:
        seen, archive = MemorySeenStore(), MemoryItemArchive()
    items = [Item(id=f"r{n}", source="t", title=f"title {n}") for n in range(3)]
    remember(items, seen=seen, archive=archive, now=NOW)
    assert seen.unseen(["r0", "r1", "r2", "r3"]) == ["r3"]
    assert [i.id for i in archive.iter_since(NOW)] == ["r0", "r1", "r2"]


def test_on_redis_an_archived_item_is_its_seen_mark_in_one_write(redis_client: redis.Redis) -> None:
    """One key per item: archiving marks it seen, and a later mark keeps the item's JSON."""
    seen, archive = RedisSeenStore(redis_client), RedisItemArchive(redis_client)
    redis_client.config_resetstat()
    remember([_item(1)], seen=seen, archive=archive, now=NOW)
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_set"]["calls"] == 1, stats  # the JSON is the mark
    assert seen.unseen([_item(1).id, _item(2).id]) == [_item(2).id]
    seen.mark_seen([_item(1).id], NOW + timedelta(minutes=1))
    assert list(archive.iter_since(NOW)) == [_item(1)]


def test_items_archived_under_the_old_keys_are_still_read(redis_client: redis.Redis) -> None:
    """Before the marks held the items: a timestamp mark and the JSON under a key of its own."""
    archive = RedisItemArchive(redis_client)
    old = _item(1)
    RedisSeenStore(redis_client).mark_seen([old.id], NOW)
    redis_client.set(f"alerts:ingest:item:{old.id}", old.model_dump_json())
    redis_client.zadd(archive.index, {old.id: NOW.timestamp()})
    archive.add([_item(2)], NOW + timedelta(seconds=1))
    assert list(archive.iter_since(NOW)) == [old, _item(2)]
