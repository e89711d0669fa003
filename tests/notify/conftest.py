"""Fixtures for the notifier tests: the real test servers and alert factories."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from alerts.models import Alert, Digest, DigestEntry, Hit, Item
from tests.support.slack import SlackTestServer
from tests.support.smtp import SmtpTestServer

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
CANARY = "CANARY7f3a9c2e"


@pytest.fixture(scope="session")
def _smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture(scope="session")
def _slack_server() -> Iterator[SlackTestServer]:
    with SlackTestServer() as server:
        yield server


@pytest.fixture
def smtp(_smtp_server: SmtpTestServer) -> SmtpTestServer:
    """A real SMTP server on a free loopback port, with no messages or scripts."""
    _smtp_server.reset()
    return _smtp_server


@pytest.fixture
def slack(_slack_server: SlackTestServer) -> SlackTestServer:
    """A Slack-webhook-like HTTP server on a free loopback port, answering ``ok``."""
    _slack_server.reset()
    return _slack_server


def hit(text: str, field: str, term: str | None = None) -> Hit:
    """A Hit for the first occurrence of ``term`` in ``text``."""
    term = term or ""
    start = text.index(term)
    return Hit(term=term.lower(), field=field, start=start, end=start + len(term), text=term)


def make_alert(
    title: str = "Ceasefire talks resume in Geneva",
    body: str = "Officials said the ceasefire would hold through the weekend.",
    url: str | None = "https://www.bbc.co.uk/news/world-1",
    *,
    item_id: str = "item-1",
    watch_name: str = "Ceasefire",
    terms: tuple[str, ...] = ("ceasefire",),
) -> Alert:
    """An alert with hits for ``terms`` found in the body (else the title)."""
    hits = []
    for term in terms:
        field, text = ("body", body) if term in body else ("title", title)
        hits.append(hit(text, field, term))
    item = Item(id=item_id, source="bbc-world", title=title, body=body, url=url, published=NOW)
    return Alert(
        watch="ceasefire",
        watch_name=watch_name,
        item=item,
        hits=tuple(hits),
        clause="any: ceasefire, truce",
        channels=("email", "slack"),
    )


def make_digest() -> Digest:
    """A digest of 7 alerts in 2 stories (one story split over two entries)."""
    first = make_alert(item_id="a", title="Ceasefire holds in the north")
    second = make_alert(item_id="b", title="Truce talks stall", body="No ceasefire yet.")
    third = make_alert(item_id="c", title="Ceasefire holds, say officials")
    return Digest(
        watch="ceasefire",
        watch_name="Ceasefire",
        channel="slack",
        entries=(
            DigestEntry(story="s-north", alert=first, count=4),
            DigestEntry(story="s-talks", alert=second, count=2),
            DigestEntry(story="s-north", alert=third, count=1),
        ),
        total=7,
        reason="throttled",
    )
