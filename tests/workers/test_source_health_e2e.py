"""A polled source that fails raises an ops alert at a real Slack-like sink, then a recovery."""

from __future__ import annotations

from pathlib import Path

import redis

from alerts.delivery import list_deliveries, redis_store
from alerts.source_health import OPS_WATCH
from tests.ingest.httpserver import Route, Site, serve
from tests.workers.conftest import running_stack
from tests.workers.test_e2e import settle, wait_until

OPS_URL = "slack://T0PS0000/B0PS0000/OPSOPSOPSOPSOPSOPSOPSOPS"
FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Wire</title>'
    "<item><title>Danube ports report record grain shipments</title>"
    "<guid>https://news.example.org/grain</guid><description>Exports rose.</description></item>"
    "</channel></rss>"
)


def test_failing_source_alerts_ops_then_recovers(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    site = Site(routes={"/feed": Route(b"upstream broke", status=500)})
    with serve(site):
        url = f"http://127.0.0.1:{site.port}/feed"
        source = {"id": "wire", "kind": "rss", "url": url, "interval": 0.5, "allow_private": True}

        def channels(smtp, slack) -> dict[str, str]:  # type: ignore[no-untyped-def]
            return {
                "email": smtp.apprise_url("desk@example.org"),
                "slack": "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
                "digest": "console://",
                "ops": OPS_URL,
            }

        with running_stack(
            tmp_path, redis_url, redis_client, beat=True, channels=channels,
            sources=[source], source_health={"channel": "ops", "failures": 2},
            worker={"poll_tick": 0.5},
        ) as stack:  # fmt: skip

            def ops() -> list[str]:
                posts = [r for r in stack.slack.requests if "OPSOPS" in r.path]
                return [str(r.payload) for r in posts]

            wait_until(lambda: len(ops()) >= 1, timeout=90)
            assert "Source wire is failing" in ops()[0]
            assert "500" in ops()[0]  # the last error says what went wrong

            site.routes["/feed"] = Route(
                FEED.encode(), headers={"Content-Type": "application/rss+xml"}
            )
            wait_until(lambda: len(ops()) >= 2, timeout=90)
            assert "Source wire has recovered" in ops()[1]
            settle(stack)
            assert len(ops()) == 2  # one alert, one recovery: the ledger sent each once

    rows = list_deliveries(redis_store(redis_client), watch=OPS_WATCH, limit=10)
    assert sorted(r.status for r in rows) == ["sent", "sent"]
    assert {r.channel for r in rows} == {"ops"}
