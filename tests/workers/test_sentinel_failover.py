"""Redis Sentinel: broker and stores follow a failover mid-run; nothing is lost, duplicates flagged.

A real Sentinel set (master, replica, three sentinels) is started here; the master is SIGKILLed
while bulletins are being fed. The figures (promotion and recovery times) are printed as
``FAILOVER {...}`` for the closing note.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.redis_conn import connect
from tests.support.ha import ha_run
from tests.support.sentinel import MASTER, SentinelSet

ITEMS = 300
pytestmark = pytest.mark.timeout(400)


@pytest.fixture
def sentinels() -> Iterator[SentinelSet]:
    """A fresh Sentinel set for one test."""
    found = SentinelSet().start()
    yield found
    found.stop()


def test_master_failover_mid_run_loses_nothing(tmp_path: Path, sentinels: SentinelSet) -> None:
    url = sentinels.url()
    with ha_run(tmp_path, url, ITEMS, {"w1": (), "w2": ()}, sentinel_master=MASTER) as run:
        t0 = time.monotonic()
        feeding = run.feed(rate=3.0)  # 30 bulletins over about 10 seconds
        time.sleep(4)
        killed = sentinels.kill_master()
        promoted = sentinels.wait_promoted()
        feeding.join()
        accepted_all = time.monotonic()
        done = run.wait_delivered(timeout=180)
        time.sleep(3)  # a late duplicate would land now
        counts = run.counts(connect(url, sentinel_master=MASTER))
    figures = {
        **counts,
        "promotion_seconds": round(promoted - killed, 2),
        "all_accepted_after_kill_seconds": round(accepted_all - killed, 2),
        "all_delivered_after_kill_seconds": round(done - killed, 2),
        "run_seconds": round(done - t0, 1),
    }
    print("FAILOVER " + json.dumps(figures), flush=True)
    assert counts["lost"] == 0, figures
    assert counts["duplicates"] <= counts["flagged"], figures
