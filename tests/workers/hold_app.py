"""The service's Celery app with one more task, for tests that kill a worker mid-task.

``tests.hold`` notes which process runs it (``hold:<key>`` lists the pids, in order, and
``hold:<key>:redelivered`` the last run's redelivered flag) and, on its first run only, sleeps
long enough to be killed in the middle; a second run returns at once.
"""

from __future__ import annotations

import os
import time

import redis

from workers.app import app

__all__ = ["app"]


@app.task(name="tests.hold", bind=True)
def hold(self: object, key: str, seconds: float = 60.0) -> None:
    """Note this process under ``hold:<key>``; on a first delivery, sleep ``seconds``."""
    client = redis.Redis.from_url(os.environ["ALERTS_REDIS_URL"])
    redelivered = (self.request.delivery_info or {}).get("redelivered")
    client.set(f"hold:{key}:redelivered", str(bool(redelivered)))
    if client.rpush(f"hold:{key}", os.getpid()) == 1:
        time.sleep(seconds)
