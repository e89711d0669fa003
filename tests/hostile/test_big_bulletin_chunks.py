"""A big bulletin is handed on in bounded ingest tasks, each of at most ``worker.ingest_chunk``
new items, so no task runs anywhere near the visibility timeout (one 100k-item task ran twice
at once); every item still alerts exactly once.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import redis

from tests.hostile.conftest import kaluga_worker

ITEMS = 7
CHUNK = 2
TOPICS = ["airport", "depot", "bridge", "school", "market", "railway", "harbour", "stadium"]


def _bulletin() -> str:
    items = [
        {"title": f"Kaluga {topic} closed", "body": f"Officials in Kaluga closed the {topic}."}
        for topic in TOPICS[:ITEMS]
    ]
    return base64.b64encode(json.dumps({"items": items}).encode()).decode()


def test_a_big_bulletin_runs_in_bounded_tasks_and_alerts_each_item_once(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    settings = {
        "log_level": "DEBUG",  # Celery's per-task "received"/"succeeded" lines, counted below
        "worker": {"ingest_chunk": CHUNK},
        "delivery": {"paced_channels": [], "story_threshold": 1.0},
    }
    with kaluga_worker(tmp_path, redis_url, "chunks", **settings) as (_, slack, worker, app):
        app.send_task("alerts.ingest_bulletin", args=["big", _bulletin(), "application/json"])
        slack.wait_for(ITEMS, timeout=90)
        time.sleep(1.0)  # room for a wrongly repeated send to show up
        posted = [json.dumps(r.payload) for r in slack.requests]
    tasks = worker.output().count("alerts.ingest_bulletin[")
    assert len(posted) == ITEMS
    assert all(sum(topic in p for p in posted) == 1 for topic in TOPICS[:ITEMS])
    # ceil(7 / 2) = 4 tasks hand items on; each logs "received" and "succeeded".
    assert tasks >= 2 * ((ITEMS + CHUNK - 1) // CHUNK), worker.output()[-3000:]
