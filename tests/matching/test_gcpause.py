"""The GC pause of index builds: always undone, and right when pauses overlap."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from alerts.delivery.policy import NotifySpec
from alerts.matching.gcpause import paused_gc
from alerts.matching.index import build_index
from alerts.matching.ruleset import Rule
from alerts.matching.tree import Term


@pytest.fixture(autouse=True)
def _gc_enabled() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_an_exception_turns_the_collector_back_on() -> None:
    with pytest.raises(ValueError), paused_gc():
        assert not gc.isenabled()
        raise ValueError
    assert gc.isenabled()


def test_nested_pauses_restore_at_the_outer_end() -> None:
    with paused_gc():
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_restore_when_the_last_ends() -> None:
    # Two builds in two threads: the first ends while the second still runs.
    first, second = paused_gc(), paused_gc()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with paused_gc():
        pass
    assert not gc.isenabled()


def test_a_built_index_is_left_out_of_later_collections() -> None:
    gc.unfreeze()
    rules = (Rule("w", "w", NotifySpec(channels=("email",)), Term("Kaluga"), frozenset({"body"})),)
    index = build_index(rules)
    try:
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()
    finally:
        gc.unfreeze()
    assert index.by_key
