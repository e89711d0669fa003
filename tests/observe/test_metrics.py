"""The metrics helpers: the batched histogram write, the cached label children."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from alerts.observe.metrics import DELIVERIES, MATCH_BUCKETS, child, delivered, observe_many

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


def test_a_cached_label_child_counts_in_its_metric() -> None:
    reg = CollectorRegistry()
    counter = Counter("t_sent", "t", ["channel", "status"], registry=reg)
    first = child(counter, "ops", "sent")
    assert child(counter, "ops", "sent") is first is counter.labels("ops", "sent")
    assert child(counter, "ops", "dead") is not first
    for _ in range(3):
        child(counter, "ops", "sent").inc()
    child(counter, "ops", "dead").inc()
    assert reg.get_sample_value("t_sent_total", {"channel": "ops", "status": "sent"}) == 3
    assert reg.get_sample_value("t_sent_total", {"channel": "ops", "status": "dead"}) == 1


def test_delivered_counts_each_outcome_through_the_cache() -> None:
    before = DELIVERIES.labels("cache-test", "sent")._value.get()
    delivered("cache-test", "sent")
    delivered("cache-test", "sent")
    assert DELIVERIES.labels("cache-test", "sent")._value.get() == before + 2
