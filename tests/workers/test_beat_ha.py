"""Two beats, one schedule: RedBeat's lock lets one send; kill it and the standby takes over."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from tests.support.ha import beat_argv
from tests.support.processes import Service, service_env, write_config
from tests.workers.test_e2e import wait_until

pytestmark = pytest.mark.timeout(300)
TICKS = {"poll_tick": 1, "digest_tick": 1, "reconcile_tick": 1, "beat_lock_seconds": 6}


def senders(client: redis.Redis) -> Counter[int]:
    """Queued task messages per sending process id (kombu's ``origin`` header: gen<pid>@host)."""
    found: Counter[int] = Counter()
    for raw in client.lrange("alerts", 0, -1):
        origin = json.loads(raw)["headers"]["origin"]
        found[int(origin.split("@")[0].removeprefix("gen"))] += 1
    return found


def test_only_one_beat_schedules_and_the_standby_takes_over(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    config = write_config(tmp_path, rules_dir=str(tmp_path), worker=TICKS)
    env = service_env(config, redis_url)
    beats = [Service(f"beat-{n}", beat_argv(tmp_path / str(n)), env).start() for n in "ab"]
    try:
        wait_until(lambda: sum("Acquired lock" in b.output() for b in beats) == 1)
        active, standby = beats if "Acquired lock" in beats[0].output() else beats[::-1]
        assert active.proc and standby.proc
        wait_until(lambda: senders(redis_client)[active.proc.pid] >= 6)
        time.sleep(3)  # the standby, lock-less, sends nothing all this while
        assert set(senders(redis_client)) == {active.proc.pid}
        assert "Acquired lock" not in standby.output()

        redis_client.delete("alerts")
        active.kill_group(signal.SIGKILL)  # no clean release: its lock must lapse
        wait_until(lambda: "Acquired lock" in standby.output())
        wait_until(lambda: senders(redis_client)[standby.proc.pid] >= 6)
        assert set(senders(redis_client)) == {standby.proc.pid}
    finally:
        for beat in beats:
            beat.stop()
        print("\n".join(b.output()[-2000:] for b in beats))
