"""The GC pause of index builds: always undone, and right when pauses overlap; freed heap
pages handed back."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.gcpause import give_back_freed, paused_gc
from tests.support.fresh import cycles_left


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


_BUILD_AND_DROP = """
import gc
from alerts.matching import Matcher
from alerts.models import Item
from alerts.rules import RuleSet
from alerts.rules.notify import NotifySpec
from alerts.rules.ruleset import Rule
from alerts.rules.tree import Term

gc.collect()
rules = tuple(
    Rule(f"w{i}", "w", NotifySpec(channels=("email",)), Term(t), frozenset({"body"}))
    for i, t in enumerate(["Kaluga", "cease-fire", "coalition of the willing", "drone*"])
)
matcher = Matcher(RuleSet(rules, "v1"))
assert matcher.match(Item(id="i", source="t", title="", body="Kaluga cease-fire drones"))
assert gc.isenabled(), "the build left the collector off"
assert gc.get_freeze_count() == 0, "the build froze objects"
del matcher, rules
"""


def test_building_leaves_the_collector_as_it_was_and_a_dropped_matcher_no_cycles() -> None:
    # Workers freeze the heap after a reload (workers.runtime.freeze_heap): that is only
    # leak-free because an old rule set and its matcher are freed by reference counting.
    # In a fresh interpreter (tests/support/fresh.py): no other test's threads or frozen
    # objects in the count.
    assert cycles_left(_BUILD_AND_DROP) == 0, "a dropped matcher left cycles for the collector"


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    # 1 KiB blocks come from the C heap (not Python's small-object arenas); the last one kept
    # alive stops glibc from trimming the top of the heap by itself, as a kept rule set does.
    if not give_back_freed():
        pytest.skip("the C library has no malloc_trim")
    blocks = [bytes(1024) + bytes([i % 256]) for i in range(100_000)]
    keep = blocks[-1]
    del blocks
    before = _rss_kib()
    assert give_back_freed()
    assert before - _rss_kib() > 50_000  # of about 100 MiB freed, well over half goes back
    assert keep


def _scanned(obj: object) -> bool:
    """Whether the collector still scans ``obj``: frozen objects are in none of its
    generations (counting them instead is upset by any other frozen object freed meanwhile)."""
    return any(o is obj for o in gc.get_objects())


def test_a_kept_pause_freezes_what_it_built_when_the_last_pause_ends() -> None:
    """A fresh rule set is not walked by the first collections after its build."""
    gc.unfreeze()
    try:
        with paused_gc():
            with paused_gc() as inner:
                built = [[i] for i in range(1000)]
                inner.keep()
            assert _scanned(built)  # the outer pause is still on: nothing frozen yet
        assert not _scanned(built)
        with paused_gc():
            more = [[i] for i in range(10)]
        assert _scanned(more)  # not asked: nothing frozen
    finally:
        gc.unfreeze()
