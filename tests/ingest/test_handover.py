"""Items are handed over before a poll is recorded, so a crash re-polls instead of losing them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.ingest.fetch import Fetcher
from alerts.ingest.settings import SourceSettings
from alerts.ingest.sources import poll_source
from alerts.ingest.state import MemorySourceStateStore
from alerts.models import Item
from tests.ingest.httpserver import Route, Site, local_resolver, serve
from tests.ingest.test_sources import FIXTURES, START, _src


class Crash(Exception):
    """Stands for a worker dying while it queues the items."""


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield running


def test_a_crash_while_queueing_feed_items_keeps_the_old_etag(site: Site) -> None:
    site.routes["/rss"] = Route((FIXTURES / "harbour.rss").read_bytes(), headers={"ETag": '"a"'})
    fetcher, state = Fetcher(local_resolver(), timeout=5.0), MemorySourceStateStore()
    src = _src(site, "/rss", interval=60)

    def crash(items: list[Item]) -> None:
        raise Crash

    with pytest.raises(Crash):
        poll_source(src, fetcher=fetcher, state=state, clock=FrozenClock(START), on_items=crash)
    assert state.get("harbour").etag is None  # so the next poll fetches in full, not a 304
    got: list[Item] = []
    poll_source(src, fetcher=fetcher, state=state, clock=FrozenClock(START), on_items=got.extend)
    assert len(got) == 3
    fetcher.close()


def test_inbox_files_move_only_after_their_items_were_handed_over(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("Blasts near Kaluga airport\nResidents heard blasts.\n")
    src = SourceSettings(id="drop", kind="inbox", path=inbox, jitter=0)
    state = MemorySourceStateStore()

    def crash(items: list[Item]) -> None:
        assert (inbox / "a.txt").exists()  # still there while the items are queued
        raise Crash

    with pytest.raises(Crash):
        poll_source(src, fetcher=Fetcher(), state=state, clock=FrozenClock(START), on_items=crash)
    assert (inbox / "a.txt").exists()  # the crash lost nothing
    got: list[Item] = []
    poll_source(src, fetcher=Fetcher(), state=state, clock=FrozenClock(START), on_items=got.extend)
    assert [item.title for item in got] == ["Blasts near Kaluga airport"]
    assert not (inbox / "a.txt").exists()
    assert (inbox / "processed" / "a.txt").exists()
