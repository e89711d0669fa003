"""The floor under ``bench/pipeline.py``'s figures: it runs, and every item reaches the sink."""

from __future__ import annotations

import random
from pathlib import Path

from bench.pipeline import drive
from bench.pipeline_floor import floor_stack
from bench.pipeline_load import Items, make_watches
from tests.support.processes import service_env, write_config


def test_the_floor_delivers_every_item_once_and_is_measured(tmp_path: Path) -> None:
    config = write_config(tmp_path, rules_dir=str(tmp_path), api_token="t")
    factory = Items(make_watches(5, random.Random(3)))
    with floor_stack(service_env(config, "redis://unused")) as stack:
        res = drive(stack, factory, "floor", bulletins=30, per_bulletin=1, rate=100.0,
                    alert_every=1, posters=2)  # fmt: skip
        assert stack.drained()
    assert res.alerts_received == res.alerts_expected == 30
    assert not res.failures
    assert len(res.latencies) == 30
    assert res.cpu_per_item() > 0 and res.cpu["workers"] > 0 and res.cpu["api"] > 0
    # One task per POST: its message, the unacked record and the ack; no other Redis work.
    assert 5 <= sum(res.redis_cmds.values()) / res.items <= 15
