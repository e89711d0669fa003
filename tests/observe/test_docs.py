"""docs/operations.md lists every metric the service exports."""

from __future__ import annotations

from pathlib import Path

import redis
from prometheus_client import Counter, Histogram

from alerts.clock import system_clock
from alerts.observe import metrics
from alerts.observe.scrape import RedisGauges

DOC = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text(encoding="utf-8")


def test_every_metric_is_documented_with_its_labels(redis_client: redis.Redis) -> None:
    counted = [m for m in vars(metrics).values() if isinstance(m, Counter | Histogram)]
    names = {m._name + ("_total" if isinstance(m, Counter) else ""): m._labelnames for m in counted}
    gauges = RedisGauges(
        redis_client, queue="alerts", ledger_prefix="p:", rules_status_key="k", intake_key="i",
        sources=[], clock=system_clock,
    )  # fmt: skip
    for family in gauges.collect():
        names[family.name] = ()
    assert len(names) > 20
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in DOC.splitlines()
        if line.startswith("| `alerts_")
    }
    for name, labels in names.items():
        assert name in rows, f"{name} is missing from docs/operations.md"
        for label in labels:
            assert f"`{label}`" in rows[name], f"{name}: label {label} not documented"
