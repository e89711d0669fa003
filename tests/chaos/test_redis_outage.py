"""The real API with its Redis down, then frozen (SIGSTOP): clear 503s, a bounded /healthz.

Redis down used to give a plain 500; Redis frozen gave a 500 although the bulletin was stored
and alerted later, and /healthz hung for over a minute. Runs on a Redis of its own (never the
shared one), in every test run.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.support.processes import service_env, start_api, write_config
from tests.support.redis_server import RedisServer, free_port

TOKEN = "outage-token"
BULLETIN = b"Drones over Kaluga\nOfficials in the Kaluga region said two drones were shot down.\n"
INTAKE = "alerts:ingest:intake"  # alerts.ingest.intake._BODY


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[str, RedisServer]]:
    """An API on a Redis of its own (AOF on, so a restart keeps what was written)."""
    server = RedisServer(appendonly=True).start()
    config = write_config(tmp_path, rules_dir="rules", api_token=TOKEN)
    port = free_port()
    api = start_api(service_env(config, server.url), port)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        api.stop()
        if server.proc is not None:
            server.proc.send_signal(signal.SIGCONT)
        server.stop(kill=True)


def _post(base: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{base}/v1/bulletins?source=desk",
        content=BULLETIN,
        headers={"Authorization": f"Bearer {TOKEN}", **headers},
        timeout=60,
    )


def _healthz(base: str) -> httpx.Response:
    # Generous: a hung probe (over a minute before the fix) fails here, a slow machine does not.
    return httpx.get(f"{base}/healthz", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=15)


def test_redis_down_is_a_503_with_retry_after_and_nothing_stored(
    stack: tuple[str, RedisServer],
) -> None:
    base, server = stack
    server.stop(kill=True)
    resp = _post(base)
    assert resp.status_code == 503, resp.text
    assert resp.headers["Retry-After"].isdigit()
    assert resp.json()["stored"] is False
    health = _healthz(base)
    assert health.status_code == 503 and health.json()["redis"] is False
    server.start()
    assert redis.Redis.from_url(server.url).hlen(INTAKE) == 0
    assert _post(base).status_code == 202


def test_redis_frozen_gives_a_clear_outcome_and_a_safe_retry(
    stack: tuple[str, RedisServer],
) -> None:
    base, server = stack
    assert server.proc is not None
    server.proc.send_signal(signal.SIGSTOP)
    try:
        health = _healthz(base)
        assert health.status_code == 503 and health.json()["redis"] is False
        frozen = _post(base)
        assert frozen.status_code == 503, frozen.text
        assert frozen.headers["Retry-After"].isdigit()
        # Which call meets the freeze decides: a read first (nothing written: false), or the
        # intake write itself ("unknown": it may land once Redis wakes up).
        assert frozen.json()["stored"] in (False, "unknown")
        assert "retry" in frozen.json()["detail"]
        assert _healthz(base).status_code == 503  # still answering while the freeze lasts
    finally:
        server.proc.send_signal(signal.SIGCONT)
    # The frozen write may have landed; the retry is accepted, and it is kept only once more.
    retried = _post(base, **{"X-Alerts-Id": "push-1"})
    assert retried.status_code == 202, retried.text
    assert _post(base, **{"X-Alerts-Id": "push-1"}).json()["status"] == "duplicate"
    assert 1 <= redis.Redis.from_url(server.url).hlen(INTAKE) <= 2
