"""The metrics helpers: the batched histogram write, the cached label children."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram

from alerts.observe.metrics import (
    MATCH_BUCKETS,
    MATCH_SECONDS,
    child,
    delivered,
    items_new,
    items_parsed,
    matched,
    observe_many,
    registry,
    tally,
)

FIRED = "alerts_matches_total"

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


def exported(name: str, labels: dict[str, str]) -> float:
    """A sample as the endpoint renders it (the sum over this service's files)."""
    return registry().get_sample_value(name, labels) or 0.0


def test_delivered_counts_each_outcome() -> None:
    labels = {"channel": "cache-test", "status": "sent"}
    before = exported("alerts_deliveries_total", labels)
    delivered("cache-test", "sent")
    delivered("cache-test", "sent")
    assert exported("alerts_deliveries_total", labels) == before + 2


def test_items_parsed_and_new_count_by_source() -> None:
    parsed = {"source": "count-test", "format": "rss"}
    before = exported("alerts_items_ingested_total", parsed)
    new_before = exported("alerts_items_new_total", {"source": "count-test"})
    items_parsed("count-test", "rss", 3)
    items_parsed("count-test", "rss", 0)
    items_new("count-test", 2)
    items_new("count-test", 0)
    assert exported("alerts_items_ingested_total", parsed) == before + 3
    assert exported("alerts_items_new_total", {"source": "count-test"}) == new_before + 2


def test_tally_counts_each_key_first_seen_first() -> None:
    assert tally(iter(["b", "a", "b", "b"])) == {"b": 3, "a": 1}
    assert list(tally(["b", "a", "b"])) == ["b", "a"]
    assert tally([]) == {}


def test_matched_counts_the_watches_and_the_times_of_a_batch() -> None:
    before, sum_before = exported(FIRED, {"watch": "tally-test"}), MATCH_SECONDS._sum.get()
    bucket = MATCH_SECONDS._buckets[MATCH_BUCKETS.index(1e-4)]  # 5e-5 < value <= 1e-4
    in_bucket = bucket.get()
    matched([1e-4, 7e-5], iter(["tally-test", "tally-other", "tally-test"]))
    matched([1e-4], iter(["tally-test"]))
    assert exported(FIRED, {"watch": "tally-test"}) == before + 3
    assert exported(FIRED, {"watch": "tally-other"}) >= 1
    assert bucket.get() == in_bucket + 3
    assert MATCH_SECONDS._sum.get() == pytest.approx(sum_before + 2.7e-4)
