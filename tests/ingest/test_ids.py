"""Stable ids: GUID, else normalised URL, else content hash."""

from __future__ import annotations

import re

import pytest

from alerts.ingest.ids import content_id, item_id, normalise_url

SAFE_ID = re.compile(r"^[gcu]:[0-9a-f]{32}$")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host lowercased, default port and fragment dropped
        ("HTTP://News.Example.COM:80/a/b#top", "http://news.example.com/a/b"),
        ("https://example.com:443", "https://example.com/"),
        # tracking parameters dropped, the rest sorted
        ("https://e.com/s?utm_source=x&b=2&fbclid=9&a=1&UTM_Medium=y", "https://e.com/s?a=1&b=2"),
        # a port that is not the default is kept
        ("http://e.com:8080/x", "http://e.com:8080/x"),
        # not http(s): no URL id
        ("javascript:alert(1)", None),
        ("mailto:desk@example.com", None),
        ("/relative/path", None),
    ],
)
def test_normalise_url(url: str, expected: str | None) -> None:
    assert normalise_url(url) == expected


def test_same_url_same_id_across_sources_and_polls() -> None:
    a = item_id("feed-a", url="https://E.com/story?utm_campaign=z#x", title="A", body="x")
    b = item_id("feed-b", url="https://e.com/story", title="B", body="y")
    assert a == b and SAFE_ID.match(a)


def test_guid_wins_over_url_and_is_scoped_by_source() -> None:
    a = item_id("feed-a", guid="1234", url="https://e.com/story")
    assert a != item_id("feed-a", url="https://e.com/story")
    assert a == item_id("feed-a", guid=" 1234 ", url="https://e.com/other")
    assert a != item_id("feed-b", guid="1234")
    # a GUID that is a URL counts as that URL, so other sources agree
    assert item_id("x", guid="https://e.com/story#c") == item_id("y", url="https://e.com/story")


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_id("Storm  Hits", "Body\ntext") == content_id("storm hits", "body text")
    assert content_id("Storm hits", "body") != content_id("Storm hits", "other body")
    assert SAFE_ID.match(item_id("s", title="t", body="b"))
