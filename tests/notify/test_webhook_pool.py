"""A webhook poster looks its connection pool up once per process, and replaces a pool its
manager closed (more hosts than the manager keeps) without failing the send."""

from __future__ import annotations

from alerts.notify.webhook_http import WebhookPoster, pool_manager
from tests.support.slack import SlackTestServer

HEADERS = {"Content-Type": "application/json"}


def test_the_pool_is_kept_and_a_closed_one_replaced(slack: SlackTestServer) -> None:
    poster = WebhookPoster(f"{slack.webhook_base}/T0/B0/x", timeout=5.0)
    assert poster.post(b"{}", HEADERS).status == 200
    pool = poster._connections()
    assert poster.post(b"{}", HEADERS).status == 200
    assert poster._connections() is pool  # no lookup per send
    pool_manager(None).pools.clear()  # the manager drops its pools ...
    pool.close()  # ... and a dropped one is closed (PoolManager.clear, an older urllib3)
    assert poster.post(b"{}", HEADERS).status == 200  # nothing was sent on the closed pool
    assert poster._connections() is not pool
    assert len(slack.requests) == 3
