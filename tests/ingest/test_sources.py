"""Polling sources: conditional GET, health, backoff, live-blog growth, files and inbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from alerts.clock import FrozenClock
from alerts.ingest import BlockedAddressError, FetchError, ParseError
from alerts.ingest.dedup import MemorySeenStore
from alerts.ingest.fetch import Fetcher
from alerts.ingest.settings import SourceSettings
from alerts.ingest.sources import poll_source
from alerts.ingest.state import (
    MAX_BACKOFF,
    MemorySourceStateStore,
    RedisSourceStateStore,
    SourceState,
)
from tests.ingest.httpserver import Route, Site, local_resolver, serve

FIXTURES = Path(__file__).parent / "fixtures"
START = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(local_resolver(), timeout=5.0)
    yield f
    f.close()


def _src(site: Site, path: str, kind: str = "rss", **kw: Any) -> SourceSettings:
    return SourceSettings(
        id="harbour",
        kind=kind,
        url=f"http://feeds.test:{site.port}{path}",
        allow_private=True,
        jitter=0,
        **kw,
    )


def test_poll_conditional_get_and_health(site: Site, fetcher: Fetcher) -> None:
    validators = {"ETag": '"a"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"}
    site.routes["/rss"] = Route((FIXTURES / "harbour.rss").read_bytes(), headers=validators)
    clock, state = FrozenClock(START), MemorySourceStateStore()
    src = _src(site, "/rss", interval=60)
    items = poll_source(src, fetcher=fetcher, state=state, clock=clock)
    assert [i.source for i in items] == ["harbour"] * 3
    health = state.get("harbour")
    assert (health.etag, health.last_success, health.items_seen) == ('"a"', START, 3)
    assert health.next_poll_at == START + timedelta(seconds=60)
    # not due yet: nothing fetched
    assert poll_source(src, fetcher=fetcher, state=state, clock=clock) == []
    assert len(site.requests) == 1
    clock.advance(seconds=61)
    assert poll_source(src, fetcher=fetcher, state=state, clock=clock) == []  # 304
    assert site.requests[-1][1]["if-none-match"] == '"a"'
    assert state.get("harbour").items_seen == 3
    assert state.get("harbour").last_modified == "Wed, 01 Jan 2025 00:00:00 GMT"  # kept over a 304


def test_failures_back_off_exponentially_then_recover(site: Site, fetcher: Fetcher) -> None:
    site.routes["/rss"] = Route(b"down", status=503)
    clock, state = FrozenClock(START), MemorySourceStateStore()
    src = _src(site, "/rss", interval=60)
    delays = []
    for _ in range(3):
        with pytest.raises(FetchError, match="HTTP 503"):
            poll_source(src, fetcher=fetcher, state=state, clock=clock)
        health = state.get("harbour")
        assert health.next_poll_at is not None
        delays.append(health.next_poll_at - clock())
        clock.now = health.next_poll_at
    assert delays == [timedelta(seconds=120), timedelta(seconds=240), timedelta(seconds=480)]
    assert state.get("harbour").consecutive_failures == 3
    assert "HTTP 503" in (state.get("harbour").last_error or "")
    site.routes["/rss"] = Route((FIXTURES / "weather.rdf").read_bytes())
    assert len(poll_source(src, fetcher=fetcher, state=state, clock=clock)) == 1
    assert state.get("harbour").consecutive_failures == 0


class _EchoingFetcher:
    """A fetch that fails with a message quoting its URL's secrets (a proxy or library might)."""

    def fetch(self, url: str, **_: Any) -> None:
        raise FetchError("http://feeds.test/", f"upstream said: cannot GET {url}")


def test_a_failing_source_s_secrets_never_reach_its_stored_error() -> None:
    """The stored error feeds the console, the ops alert and logs: secrets masked at the root."""
    state = MemorySourceStateStore()
    src = SourceSettings(
        id="harbour", kind="rss", url="http://reader:pa55word@feeds.test/rss?token=sekrit-42",
        secret="hmac-secret-x", jitter=0,
    )  # fmt: skip
    with pytest.raises(FetchError, match="sekrit-42"):
        poll_source(src, fetcher=_EchoingFetcher(), state=state, clock=FrozenClock(START))  # type: ignore[arg-type]
    stored = state.get("harbour").last_error or ""
    assert "upstream said" in stored and "****" in stored
    assert "sekrit-42" not in stored and "pa55word" not in stored


def test_backoff_is_capped() -> None:
    from alerts.ingest.state import after_failure

    state = SourceState(consecutive_failures=30)
    after = after_failure(state, START, interval=300, error="x")
    assert after.next_poll_at == START + MAX_BACKOFF


def test_private_source_without_allow_private_is_refused(site: Site, fetcher: Fetcher) -> None:
    src = SourceSettings(id="x", kind="rss", url=f"http://127.0.0.1:{site.port}/rss")
    state = MemorySourceStateStore()
    with pytest.raises(BlockedAddressError):
        poll_source(src, fetcher=fetcher, state=state, clock=FrozenClock(START))
    assert site.requests == [] and state.get("x").consecutive_failures == 1


def test_live_blog_that_gains_two_posts_gives_two_new_items(site: Site, fetcher: Fetcher) -> None:
    page = (FIXTURES / "liveblog-timestamps.html").read_text(encoding="utf-8")
    site.routes["/live"] = Route(
        page.encode(), headers={"Content-Type": "text/html; charset=utf-8"}
    )
    clock, state, seen = FrozenClock(START), MemorySourceStateStore(), MemorySeenStore()
    src = _src(site, "/live", kind="html", interval=30)
    first = poll_source(src, fetcher=fetcher, state=state, clock=clock)
    assert len(seen.claim([i.id for i in first], clock())) == 3
    posts = "".join(
        f'<li id="post-{n}"><article><time datetime="2026-03-14T12:{n}0:00Z">12:{n}0</time>'
        f"<h2>Dam holds after night of {n} alarms</h2><p>Update {n}.</p></article></li>"
        for n in (4, 5)
    )
    site.routes["/live"].body = page.replace(
        '<ol class="live-feed">', '<ol class="live-feed">' + posts
    ).encode()
    clock.advance(seconds=31)
    second = poll_source(src, fetcher=fetcher, state=state, clock=clock)
    new = seen.claim([i.id for i in second], clock())
    assert [i.title for i in second if i.id in new] == [
        "Dam holds after night of 4 alarms",
        "Dam holds after night of 5 alarms",
    ]
    assert all(
        (i.url or "").startswith(f"http://feeds.test:{site.port}/live#post-") for i in second
    )


def test_items_per_poll_are_capped(site: Site, fetcher: Fetcher) -> None:
    site.routes["/rss"] = Route((FIXTURES / "harbour.rss").read_bytes())
    src = _src(site, "/rss", options={"max_items": 2})
    items = poll_source(
        src, fetcher=fetcher, state=MemorySourceStateStore(), clock=FrozenClock(START)
    )
    assert len(items) == 2


def test_file_source_is_skipped_when_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "bulletin.txt"
    path.write_bytes((FIXTURES / "harbour-bulletin.txt").read_bytes())
    src = SourceSettings(id="file", kind="text", path=path, interval=1)
    clock, state = FrozenClock(START), MemorySourceStateStore()
    fetcher = Fetcher(local_resolver())
    assert len(poll_source(src, fetcher=fetcher, state=state, clock=clock)) == 3
    clock.advance(seconds=2)
    assert poll_source(src, fetcher=fetcher, state=state, clock=clock) == []


def test_inbox_ingests_each_file_once_and_keeps_bad_ones(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_bytes((FIXTURES / "harbour-bulletin.txt").read_bytes())
    (inbox / "b.json").write_bytes((FIXTURES / "pushed.json").read_bytes())
    (inbox / "broken.json").write_bytes(b'{"items": [{"title": 1,}]}')
    (inbox / "writing.part").write_bytes(b"half a bulle")
    src = SourceSettings(id="inbox", kind="inbox", path=inbox, interval=1)
    clock, state = FrozenClock(START), MemorySourceStateStore()
    fetcher = Fetcher(local_resolver())
    items = poll_source(src, fetcher=fetcher, state=state, clock=clock)
    assert len(items) == 5 and {i.source for i in items} == {"inbox"}
    assert sorted(p.name for p in (inbox / "processed").iterdir()) == ["a.txt", "b.json"]
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == ["broken.json", "broken.json.error.txt"]
    assert "invalid JSON" in (inbox / "failed" / "broken.json.error.txt").read_text()
    assert (inbox / "writing.part").exists()
    clock.advance(seconds=2)
    assert poll_source(src, fetcher=fetcher, state=state, clock=clock) == []
    # the same name dropped again is ingested again, and kept beside the first
    (inbox / "a.txt").write_bytes(b"Late headline\nA paragraph.\n")
    clock.advance(seconds=2)
    assert [i.title for i in poll_source(src, fetcher=fetcher, state=state, clock=clock)] == [
        "Late headline"
    ]
    assert len(list((inbox / "processed").iterdir())) == 3


def test_source_without_url_or_path_is_an_error() -> None:
    src = SourceSettings(id="nothing", kind="rss")
    with pytest.raises(ParseError, match="needs a url or a path"):
        poll_source(
            src,
            fetcher=Fetcher(local_resolver()),
            state=MemorySourceStateStore(),
            clock=FrozenClock(START),
        )


def test_redis_state_store_round_trip(redis_client: redis.Redis) -> None:
    store = RedisSourceStateStore(redis_client)
    assert store.get("a") == SourceState()
    state = SourceState(etag='"x"', last_success=START, items_seen=4, next_poll_at=START)
    store.put("a", state)
    assert RedisSourceStateStore(redis_client).get("a") == state


def test_webhook_sources_are_not_polled() -> None:
    src = SourceSettings(id="hook", kind="webhook")
    state = MemorySourceStateStore()
    assert (
        poll_source(src, fetcher=Fetcher(local_resolver()), state=state, clock=FrozenClock(START))
        == []
    )
    assert state.get("hook") == SourceState()


def test_polls_with_redis_stores_alert_once(
    site: Site, fetcher: Fetcher, redis_client: redis.Redis
) -> None:
    from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore

    site.routes["/rss"] = Route((FIXTURES / "harbour.rss").read_bytes())
    clock = FrozenClock(START)
    state, seen = RedisSourceStateStore(redis_client), RedisSeenStore(redis_client)
    archive = RedisItemArchive(redis_client)
    src = _src(site, "/rss", interval=60)
    new_per_poll = []
    for _ in range(2):
        items = poll_source(src, fetcher=fetcher, state=state, clock=clock)
        fresh = set(seen.claim([i.id for i in items], clock()))
        archive.add([i for i in items if i.id in fresh], clock())
        new_per_poll.append(len(fresh))
        clock.advance(seconds=61)
    assert new_per_poll == [3, 0]
    assert len(list(archive.iter_since(START))) == 3
    assert state.get("harbour").items_seen == 6  # health counts items fetched, new or not


@pytest.mark.parametrize("kind", ["text", "inbox"])
def test_a_sources_configured_language_is_declared_on_its_items(tmp_path: Path, kind: str) -> None:
    """English text from a source configured as Ukrainian: the operator's word wins."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bulletin.txt").write_bytes((FIXTURES / "harbour-bulletin.txt").read_bytes())
    path = folder if kind == "inbox" else folder / "bulletin.txt"
    src = SourceSettings(id="s", kind=kind, path=path, interval=1, language="uk-UA")
    fetcher = Fetcher(local_resolver())
    items = poll_source(
        src, fetcher=fetcher, state=MemorySourceStateStore(), clock=FrozenClock(START)
    )
    assert {(i.language, i.language_source) for i in items} == {("uk", "declared")}
