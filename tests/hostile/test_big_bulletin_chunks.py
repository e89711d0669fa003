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
from celery import Celery

from tests.support.processes import service_env, start_worker, write_config
from tests.support.slack import SlackTestServer

KALUGA = "id: kaluga\nany: [Kaluga]\nnotify: {channels: [slack]}\n"
SLACK = "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"
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
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kaluga.yaml").write_text(KALUGA, encoding="utf-8")
    with SlackTestServer() as slack:
        config = write_config(
            tmp_path,
            rules_dir=str(rules),
            channels={"slack": SLACK},
            worker={"ingest_chunk": CHUNK},
            delivery={"paced_channels": [], "story_threshold": 1.0},
        )
        env = service_env(config, redis_url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=slack.webhook_base)
        worker = start_worker(env, name="chunks", concurrency=1)
        app = Celery("chunks", broker=redis_url)
        app.conf.update(task_default_queue="alerts", task_serializer="json")
        try:
            app.send_task("alerts.ingest_bulletin", args=["big", _bulletin(), "application/json"])
            slack.wait_for(ITEMS, timeout=90)
            time.sleep(1.0)  # room for a wrongly repeated send to show up
            posted = [json.dumps(r.payload) for r in slack.requests]
        finally:
            worker.stop()
            app.close()
    tasks = worker.output().count("alerts.ingest_bulletin[")
    assert len(posted) == ITEMS
    assert all(sum(topic in p for p in posted) == 1 for topic in TOPICS[:ITEMS])
    # ceil(7 / 2) = 4 tasks hand items on; each logs "received" and "succeeded".
    assert tasks >= 2 * ((ITEMS + CHUNK - 1) // CHUNK), worker.output()[-3000:]
