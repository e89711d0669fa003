"""A real worker keeps matching with its last good rule set when hostile rule files land
(an alias bomb, a huge file, a NUL byte)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import redis
from celery import Celery

from tests.hostile.conftest import kaluga_worker
from tests.hostile.test_rule_files import billion_laughs

RULES_STATUS_KEY = "alerts:rules:status"  # workers.runtime.RULES_STATUS_KEY


# Different stories: a near-duplicate would be held as a follow-up of the first one.
BULLETINS = {
    1: "Drones over Kaluga overnight\nOfficials in Kaluga counted twelve drones.\n",
    2: "Kaluga airport shuts after depot fire\nFlights resume tomorrow, the governor said.\n",
}


def _submit(app: Celery, n: int) -> None:
    text = BULLETINS[n]
    data = base64.b64encode(text.encode()).decode()
    app.send_task("alerts.ingest_bulletin", args=["hostile", data, "text/plain"])


def _status(client: redis.Redis) -> dict:
    raw = client.get(RULES_STATUS_KEY)
    return json.loads(raw) if raw else {}


def _wait(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_worker_keeps_its_rules_after_a_bomb_and_a_huge_file(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = {"rules_reload_seconds": 0.2, "delivery": {"paced_channels": []}}
    with kaluga_worker(tmp_path, redis_url, "hostile", **settings) as (rules, slack, _, app):
        _submit(app, 1)
        slack.wait_for(1, timeout=60)
        version = _status(redis_client)["version"]

        (rules / "bomb.yaml").write_text(billion_laughs(), encoding="utf-8")
        (rules / "huge.yaml").write_bytes(b"#" * (10 * 1024 * 1024))
        (rules / "nul.yaml").write_bytes(b"id: x\x00\n")  # once a failed ingest task
        time.sleep(0.5)  # past rules_reload_seconds, so the next task re-checks
        _submit(app, 2)
        slack.wait_for(2, timeout=60)
        _wait(lambda: _status(redis_client).get("last_error"))
        status = _status(redis_client)
    assert status["version"] == version
    assert status["watches"] == 1
    assert "bomb.yaml:2:10: YAML aliases are not allowed" in status["last_error"]
    assert "huge.yaml:1:1: file is larger than" in status["last_error"]
    assert "nul.yaml:1:6: control character U+0000 is not allowed" in status["last_error"]
    assert "depot fire" in json.dumps(slack.requests[1].payload)
