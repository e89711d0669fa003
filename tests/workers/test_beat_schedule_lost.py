"""The beat schedules again after Redis lost its schedule (issue 16).

RedBeat writes its entries once, at start-up. A failover to a replica they had not reached yet
rolls them back while the lock may survive (or is taken back): the beat then ticks on an empty
schedule, the reconciler never runs again, and a task message lost in that failover stays lost.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from tests.support.ha import beat_argv
from tests.support.processes import Service, service_env, write_config
from tests.workers.test_beat_ha import TICKS, senders
from tests.workers.test_e2e import wait_until

pytestmark = pytest.mark.timeout(120)


def test_the_beat_writes_again_the_entries_redis_lost(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    config = write_config(tmp_path, rules_dir=str(tmp_path), worker=TICKS)
    beat = Service("beat", beat_argv(tmp_path), service_env(config, redis_url)).start()
    try:
        wait_until(lambda: sum(senders(redis_client).values()) >= 1)
        # What the promoted replica lacks: the schedule and its entries (the lock is kept).
        lost = [k for k in redis_client.scan_iter(b"alerts:beat:*") if not k.endswith(b":lock")]
        assert lost
        redis_client.delete(*lost, "alerts")
        wait_until(lambda: sum(senders(redis_client).values()) >= 4, timeout=30)
        assert beat.proc is not None and beat.proc.poll() is None, beat.output()[-3000:]
    finally:
        beat.stop()
