"""The batched histogram write gives what one ``observe`` per value gives."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from alerts.observe.metrics import MATCH_BUCKETS, observe_many

# On the bounds, between them, below the first and above the last.
VALUES = [0.0, 1e-5, 1.1e-5, 5e-5, 2e-4, 1e-3, 0.05, 1.0, 3.0, 1e-4, 1e-4]


def snapshot(histogram: Histogram, registry: CollectorRegistry) -> dict[str, float]:
    return {
        f"{s.name}{sorted(s.labels.items())}": s.value
        for family in registry.collect()
        for s in family.samples
        if not s.name.endswith("_created")
    }


def test_observe_many_matches_observe() -> None:
    one_reg, many_reg = CollectorRegistry(), CollectorRegistry()
    one = Histogram("t_seconds", "t", buckets=MATCH_BUCKETS, registry=one_reg)
    many = Histogram("t_seconds", "t", buckets=MATCH_BUCKETS, registry=many_reg)
    for value in VALUES:
        one.observe(value)
    observe_many(many, VALUES)
    observe_many(many, [])
    assert snapshot(many, many_reg) == snapshot(one, one_reg)
