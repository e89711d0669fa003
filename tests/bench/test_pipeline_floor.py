"""The floor under ``bench/pipeline.py``'s figures: it runs, and every item reaches the sink."""

from __future__ import annotations

import random
from pathlib import Path

import psutil
import pytest

from bench.pipeline import drive
from bench.pipeline_load import Items, make_watches
from bench.pipeline_stack import floor_stack


@pytest.mark.timeout(180)
def test_the_floor_delivers_every_item_once_and_is_measured(tmp_path: Path) -> None:
    factory = Items(make_watches(5, random.Random(3)))
    with floor_stack(tmp_path) as stack:
        stack.redis.hset("unacked", "probe", "{}")  # drained() reads the keys the floor uses
        assert not stack.drained()
        stack.redis.hdel("unacked", "probe")
        res = drive(stack, factory, "floor", bulletins=30, per_bulletin=1, rate=100.0,
                    alert_every=1, posters=2)  # fmt: skip
        assert stack.drained()
        worker = stack.workers[0].proc
        children = psutil.Process(worker.pid).children(recursive=True) if worker else []
    assert res.alerts_received == res.alerts_expected == 30
    assert not res.failures
    assert len(res.latencies) == 30
    assert len(children) == 2  # the pool's, counted with the consumer in ``cpu["workers"]``
    assert res.cpu_per_item() > 0 and res.cpu["workers"] > 0 and res.cpu["api"] > 0
    # At most one task per POST (POSTs within the linger share one): its message, the consumer's
    # pop, unacked record and ack; nothing else.
    assert res.redis_cmds.get("lpush", 0) <= res.items
    assert 1.5 <= res.commands_per_item() <= 7
