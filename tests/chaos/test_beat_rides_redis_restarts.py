"""The beat rides out Redis restarts: it stays up and keeps scheduling (reconciler included).

Without a beat nothing re-queues a delivery whose task was lost, so a beat that exits on a
Redis restart (RedBeat's lock, its schedule reads) turns a short outage into stuck alerts.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import redis

from tests.support.ha import beat_argv
from tests.support.processes import Service, service_env, write_config
from tests.support.redis_server import RedisServer
from tests.workers.test_beat_ha import senders
from tests.workers.test_e2e import wait_until

pytestmark = pytest.mark.timeout(240)
TICKS = {"poll_tick": 1, "digest_tick": 1, "reconcile_tick": 1, "beat_lock_seconds": 3}
RESTARTS = 3


def test_the_beat_keeps_scheduling_across_redis_restarts(tmp_path: Path) -> None:
    server = RedisServer(appendonly=True).start()
    config = write_config(tmp_path, rules_dir=str(tmp_path), worker=TICKS)
    beat = Service("beat", beat_argv(tmp_path), service_env(config, server.url)).start()
    try:
        wait_until(lambda: "Acquired lock" in beat.output())
        for n in range(RESTARTS):
            server.stop(kill=True)
            time.sleep(5 if n else 1)  # longer than the lock: it lapses while Redis is down
            server.start()
            client = redis.Redis.from_url(server.url)
            client.delete("alerts")
            wait_until(lambda c=client: sum(senders(c).values()) >= 4, timeout=60)
        assert beat.proc is not None and beat.proc.poll() is None, beat.output()[-3000:]
        assert "beat raised exception" not in beat.output()
    finally:
        beat.stop()
        server.close()
