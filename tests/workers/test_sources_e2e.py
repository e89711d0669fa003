"""Sources end to end: beat polls an RSS feed and an inbox folder; new items alert exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import redis

from tests.support.http import LocalHTTPServer
from tests.workers.conftest import running_stack
from tests.workers.test_e2e import settle, wait_until

ITEM = """<item><title>{title}</title><link>https://news.example.org/{slug}</link>
<guid>https://news.example.org/{slug}</guid><description>{body}</description></item>"""


class Page:
    """A document on a loopback HTTP server, rendered afresh for every GET."""

    content_type = "text/plain; charset=utf-8"

    def __init__(self) -> None:
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = page.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = LocalHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/page"

    def render(self) -> str:
        raise NotImplementedError


class Feed(Page):
    """An RSS feed; items can be added while it runs."""

    content_type = "application/rss+xml; charset=utf-8"

    def __init__(self) -> None:
        self.items: list[str] = []
        super().__init__()

    def render(self) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            "<title>Wire</title><link>https://news.example.org/</link>"
            + "".join(self.items)
            + "</channel></rss>"
        )

    def add(self, slug: str, title: str, body: str) -> None:
        self.items.insert(0, ITEM.format(slug=slug, title=title, body=body))


@pytest.fixture
def feed() -> Iterator[Feed]:
    f = Feed()
    f.add("grain", "Danube ports report record grain shipments", "Exports rose again.")
    f.add("talks", "Envoys meet on a ceasefire plan", "Delegations discussed a ceasefire line.")
    yield f
    f.server.shutdown()


def test_beat_polls_feed_and_inbox_and_alerts_new_items_once(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, feed: Feed
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sources = [
        {"id": "wire", "kind": "rss", "url": feed.url, "interval": 1, "allow_private": True},
        {"id": "drop", "kind": "inbox", "path": str(inbox), "interval": 1},
    ]
    with running_stack(
        tmp_path, redis_url, redis_client, beat=True, sources=sources, worker={"poll_tick": 1}
    ) as stack:
        stack.slack.wait_for(1, timeout=60)  # the ceasefire item of the feed
        (inbox / "bulletin.txt").write_text(
            "Blasts reported near Kaluga airport\n"
            "Residents of Kaluga heard several blasts near the airport overnight.\n",
            encoding="utf-8",
        )
        mails = stack.smtp.wait_for(1, timeout=60)
        assert "Kaluga airport" in mails[0].message["Subject"]
        wait_until(lambda: (inbox / "processed").exists() and not (inbox / "bulletin.txt").exists())

        feed.add("drones", "Drones downed over the Kaluga region", "Officials said so.")
        stack.smtp.wait_for(2, timeout=60)
        time.sleep(3)  # several more polls of an unchanged feed and an empty inbox
        settle(stack)
        assert len(stack.smtp.messages) == 2
        assert len(stack.slack.requests) == 1
        health = redis_client.keys("*source*")
        assert health, "per-source state is kept in Redis"


POST = """<li class="live-post" id="post-{n}"><article><header>
<time datetime="2026-03-14T1{n}:00:00+01:00">1{n}:00</time><h2>{title}</h2></header>
<p>{body}</p></article></li>"""


class LiveBlog(Page):
    """A growing live-blog page (time-stamped posts, newest first)."""

    content_type = "text/html; charset=utf-8"

    def __init__(self) -> None:
        self.posts: list[str] = []
        super().__init__()

    def render(self) -> str:
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Live: talks</title>"
            "</head><body><main><h1>Live: talks</h1><ol class='live-feed'>"
            + "".join(reversed(self.posts))
            + "</ol></main></body></html>"
        )

    def post(self, title: str, body: str) -> None:
        self.posts.append(POST.format(n=len(self.posts) + 1, title=title, body=body))


def test_a_live_blog_that_gains_two_posts_alerts_on_those_two_only(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    blog = LiveBlog()
    blog.post("Envoys arrive for a new round of talks", "Delegations discussed a ceasefire line.")
    blog.post("Markets steady as talks begin", "Shares rose slightly in early trading.")
    source = {"id": "blog", "kind": "html", "url": blog.url, "interval": 1, "allow_private": True}
    try:
        with running_stack(
            tmp_path, redis_url, redis_client, beat=True, sources=[source], worker={"poll_tick": 1}
        ) as stack:
            stack.slack.wait_for(1, timeout=60)
            blog.post("Observers to monitor the ceasefire", "Monitors will watch the ceasefire.")
            blog.post("Blasts heard near Kaluga", "Residents of Kaluga reported blasts overnight.")
            stack.slack.wait_for(2, timeout=60)
            stack.smtp.wait_for(1, timeout=60)
            time.sleep(3)  # more polls of the unchanged page
            settle(stack)
            assert len(stack.slack.requests) == 2
            assert len(stack.smtp.messages) == 1
            assert "Observers to monitor the ceasefire" in str(stack.slack.requests[1].payload)
    finally:
        blog.server.shutdown()


def test_a_signed_webhook_alerts_once_and_a_replay_is_a_duplicate(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    import json
    from datetime import UTC, datetime

    import httpx

    from alerts.ingest.signing import sign

    source = {"id": "newsroom", "kind": "webhook", "secret": "push-key"}
    body = json.dumps({"items": [{"title": "Ceasefire talks resume", "body": "A ceasefire."}]})
    ts = str(int(datetime.now(UTC).timestamp()))
    headers = {
        "X-Alerts-Timestamp": ts,
        "X-Alerts-Signature": sign(b"push-key", ts, body.encode()),
        "Content-Type": "application/json",
    }
    with running_stack(tmp_path, redis_url, redis_client, sources=[source]) as stack:
        url = f"{stack.api}/v1/bulletins?source=newsroom"
        first = httpx.post(url, content=body, headers=headers, timeout=10)
        assert first.status_code == 202, first.text
        stack.slack.wait_for(1, timeout=60)
        replay = httpx.post(url, content=body, headers=headers, timeout=10)
        assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
        forged = httpx.post(url, content=body, headers={**headers, "X-Alerts-Timestamp": "1"})
        assert forged.status_code == 401
        settle(stack)
        assert len(stack.slack.requests) == 1
