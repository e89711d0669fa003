"""Invalid UTF-8 (and lone surrogates) in JSON bulletins: U+FFFD or a 400, never a crash.

docs/ingest.md: a declared charset wins, invalid bytes become U+FFFD; undeclared bytes that are
not UTF-8 go to charset detection. Either way every item must be clean, valid Unicode that the
workers can send on as JSON, and the API answers 202 or 400, never 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts.api.app import create_app
from alerts.ingest import ParseError, parse_bulletin
from alerts.models import Item
from alerts.settings import load_settings

TOKEN = "hostile-token-not-a-secret"
FEED = b'{"version": "https://jsonfeed.org/version/1.1", "title": "f", "items": [%s]}'
CASES: dict[str, bytes] = {
    "bad-continuation": b'{"title": "caf\xc3\x28 talks", "body": "Kaluga"}',
    "lone-ff-fe": b'{"title": "talks \xff\xfe in Kaluga"}',
    "overlong-slash": b'{"title": "x\xc0\xafy Kaluga"}',
    "encoded-surrogate": b'{"title": "\xed\xa0\x80 Kaluga"}',
    "truncated-at-end": b'{"items": [{"title": "Kaluga \xe2\x82"}]}',
    "bad-byte-in-key": b'{"ti\xfftle": "Kaluga"}',
    "escaped-lone-surrogate": b'{"title": "Kaluga \\ud800 drones"}',
    "escaped-lone-low-surrogate-in-body": b'{"title": "Kaluga", "body": "x \\udfff y"}',
    "escaped-nul": b'{"title": "Kaluga\\u0000 drones", "body": "a\\u0000b"}',
    "feed-bad-bytes": FEED % b'{"id": "1", "title": "Kaluga \xff", "content_text": "a\xc3\x28"}',
    "feed-escaped-surrogate": FEED % b'{"id": "1", "title": "Kaluga \\udbff", "content_text": "x"}',
}
CHARSETS = [None, "application/json", "application/json; charset=utf-8"]


def assert_clean(item: Item) -> None:
    """Valid Unicode, no NUL or surrogates, and JSON the workers can send on."""
    for name in ("title", "body", "summary"):
        text = getattr(item, name) or ""
        text.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in text
    assert Item.model_validate_json(item.model_dump_json()) == item


@pytest.mark.parametrize("content_type", CHARSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_parse_gives_clean_items_or_a_parse_error(case: str, content_type: str | None) -> None:
    try:
        items = parse_bulletin(CASES[case], source="hostile", content_type=content_type)
    except ParseError as exc:
        assert exc.source == "hostile"
        assert str(exc)
        return
    assert items
    for item in items:
        assert_clean(item)


@pytest.mark.parametrize("case", ["bad-continuation", "lone-ff-fe", "overlong-slash"])
def test_declared_utf8_replaces_invalid_bytes_with_fffd(case: str) -> None:
    items = parse_bulletin(
        CASES[case], source="hostile", content_type="application/json; charset=utf-8"
    )
    assert "\ufffd" in items[0].title
    assert "Kaluga" in items[0].title + items[0].body


@pytest.fixture
def client() -> Iterator[tuple[TestClient, list[dict[str, Any]]]]:
    queued: list[dict[str, Any]] = []

    def submit(**kwargs: Any) -> None:
        queued.append(kwargs)

    settings = load_settings(api_token=TOKEN)
    app = create_app(settings, submit=submit, health=lambda: {"redis": True, "workers": 1})
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c, queued


@pytest.mark.parametrize("content_type", CHARSETS[1:])
@pytest.mark.parametrize("case", sorted(CASES))
def test_api_answers_202_or_400_never_500(
    client: tuple[TestClient, list[dict[str, Any]]], case: str, content_type: str
) -> None:
    c, queued = client
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    resp = c.post("/v1/bulletins?source=hostile", content=CASES[case], headers=headers)
    assert resp.status_code in (202, 400), resp.text
    if resp.status_code == 400:
        assert resp.json()["detail"].startswith("unreadable bulletin: ")
        assert queued == []
    else:
        assert resp.json()["accepted"] >= 1
        assert queued[0]["data"] == CASES[case]  # the worker parses the same bytes again
