"""Fetching from a local server: conditional GET, redirects, caps, gzip bombs."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from alerts.ingest import BlockedAddressError, FetchError
from alerts.ingest.fetch import Fetcher
from tests.ingest.httpserver import Route, Site, gzip_bomb, local_resolver, serve

RSS = b"<rss version='2.0'><channel><item><title>A</title><link>https://e.com/a</link></item></channel></rss>"


@pytest.fixture
def site() -> Iterator[Site]:
    with serve(Site()) as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(local_resolver(), timeout=5.0, max_bytes=1024 * 1024)
    yield f
    f.close()


def _url(site: Site, path: str) -> str:
    return f"http://feeds.test:{site.port}{path}"


def test_fetch_and_conditional_get(site: Site, fetcher: Fetcher) -> None:
    site.routes["/rss"] = Route(
        RSS,
        headers={
            "ETag": '"v1"',
            "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT",
            "Content-Type": "application/rss+xml",
        },
    )
    first = fetcher.fetch(_url(site, "/rss"), allow_private=True)
    assert first.content == RSS and not first.not_modified
    assert (first.etag, first.content_type) == ('"v1"', "application/rss+xml")
    again = fetcher.fetch(
        _url(site, "/rss"), allow_private=True, etag=first.etag, last_modified=first.last_modified
    )
    assert again.not_modified and again.content == b""
    _path, headers = site.requests[-1]
    assert headers["if-none-match"] == '"v1"'
    assert headers["if-modified-since"] == "Wed, 01 Jan 2025 00:00:00 GMT"
    assert headers["host"] == f"feeds.test:{site.port}"


def test_private_address_needs_allow_private(site: Site, fetcher: Fetcher) -> None:
    site.routes["/rss"] = Route(RSS)
    with pytest.raises(BlockedAddressError):
        fetcher.fetch(_url(site, "/rss"))
    assert site.requests == []


def test_redirects_are_followed_and_capped(site: Site, fetcher: Fetcher) -> None:
    site.routes["/rss"] = Route(RSS)
    site.routes["/old"] = Route(status=301, headers={"Location": "/rss"})
    assert fetcher.fetch(_url(site, "/old"), allow_private=True).content == RSS
    site.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetcher.fetch(_url(site, "/loop"), allow_private=True)
    assert sum(1 for p, _ in site.requests if p == "/loop") == 6


def test_gzip_body_is_decoded(site: Site, fetcher: Fetcher) -> None:
    site.routes["/gz"] = Route(gzip.compress(RSS), headers={"Content-Encoding": "gzip"})
    assert fetcher.fetch(_url(site, "/gz"), allow_private=True).content == RSS


def test_gzip_bomb_stops_at_the_cap(site: Site, fetcher: Fetcher) -> None:
    bomb = gzip_bomb(16 * 1024 * 1024)
    assert len(bomb) < 1024 * 1024 // 10
    site.routes["/bomb"] = Route(bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="cap") as info:
        fetcher.fetch(_url(site, "/bomb"), allow_private=True)
    assert info.value.retryable is False


def test_oversized_body_is_refused(site: Site, fetcher: Fetcher) -> None:
    site.routes["/big"] = Route(b"x" * (1024 * 1024 + 1))
    with pytest.raises(FetchError, match="cap"):
        fetcher.fetch(_url(site, "/big"), allow_private=True)


@pytest.mark.parametrize(
    ("status", "retryable"), [(404, False), (410, False), (429, True), (503, True)]
)
def test_http_errors(site: Site, fetcher: Fetcher, status: int, retryable: bool) -> None:
    site.routes["/x"] = Route(b"no", status=status)
    with pytest.raises(FetchError, match=f"HTTP {status}") as info:
        fetcher.fetch(_url(site, "/x"), allow_private=True)
    assert info.value.retryable is retryable


def test_connection_refused_is_a_retryable_fetch_error(fetcher: Fetcher) -> None:
    with serve(Site()) as gone:
        port = gone.port
    with pytest.raises(FetchError) as info:
        fetcher.fetch(f"http://feeds.test:{port}/rss", allow_private=True)
    assert info.value.retryable
