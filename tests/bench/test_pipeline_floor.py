"""The floor under ``bench/pipeline.py``'s figures: it runs, and every item reaches the sink."""

from __future__ import annotations

import random
from pathlib import Path

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
        children = stack.workers[0].proc.pid if stack.workers[0].proc else 0
    assert res.alerts_received == res.alerts_expected == 30
    assert not res.failures
    assert len(res.latencies) == 30
    assert children and res.cpu_per_item() > 0 and res.cpu["workers"] > 0 and res.cpu["api"] > 0
    # One task per POST: its message, the consumer's pop, unacked record and ack; nothing else.
    assert 3 <= sum(res.redis_cmds.values()) / res.items <= 12
