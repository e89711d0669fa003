"""Sharded watches: each item reaches every shard; a dead shard's share waits, then delivers.

Two shards over the chaos watches: ``chaos-ceasefire`` (slack) hashes to shard 0 and
``chaos-kaluga`` (email) to shard 1. Shard 1's worker is down while items arrive.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from alerts.matching.shards import shard_of, shard_queue
from tests.chaos.test_chaos import TOKEN
from tests.support.ha import ha_run

AUTH = {"Authorization": f"Bearer {TOKEN}"}  # /healthz details need the token

pytestmark = pytest.mark.timeout(400)


def test_a_dead_shards_share_waits_then_delivers(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    assert (shard_of("chaos-ceasefire", 2), shard_of("chaos-kaluga", 2)) == (0, 1)
    workers = {"front": (), "s0": ("--shard", "0"), "s1": ("--shard", "1")}
    with ha_run(tmp_path, redis_url, 120, workers, worker={"shards": 2}) as run:
        with run.lock:  # down for good until we start it again (the supervisor must not)
            dead = run.workers.pop("s1")
            assert dead.proc is not None
            top = psutil.Process(dead.proc.pid)
            procs = [top, *top.children(recursive=True)]
            dead.kill_group(signal.SIGKILL)
            # Gone before the items come: a consumer still dying holds its BRPOP in Redis, and
            # a message Redis hands it then is lost (kombu's pop-then-record gap, README).
            assert psutil.wait_procs(procs, timeout=30)[1] == []
            time.sleep(0.5)
        run.feed(rate=5.0).join()
        slack_want = {key for key in run.want if key[0] == "slack"}
        deadline = time.monotonic() + 120
        while not all(run.got()[key] for key in slack_want):
            assert time.monotonic() < deadline, "shard 0 did not deliver its share"
            time.sleep(0.5)
        assert not any(key[0] == "email" for key in run.got()), "shard 1 is down"
        assert redis_client.llen(shard_queue(1)) > 0  # its share waits in its queue

        with run.lock:
            run.start_worker("s1")
        run.wait_delivered(timeout=120)
        time.sleep(2)
        counts = run.counts(redis_client)
        if counts["lost"]:
            print("\n".join(["LOST (channel, token: where)", *run.where_lost(redis_client)]))
        report = httpx.get(f"{run.api}/healthz", headers=AUTH, timeout=10).json()["rules_by_worker"]
    assert counts["lost"] == 0, counts
    assert counts["duplicates"] <= counts["flagged"], counts
    held = {w["shard"]: w["watches"] for w in report["workers"].values() if w["shard"] is not None}
    assert held == {0: 1, 1: 1}, report  # each shard's workers hold only their watch
