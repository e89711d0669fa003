"""Hot reload: changes are picked up after min_interval; a broken change keeps the last good set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.matching.reload import RulesWatcher, fingerprint
from alerts.rules import RuleSetError
from tests.matching.helpers import fired, item, write_rules

GOOD = "id: w\nany: [Kaluga]\nnotify: {channels: [email]}\n"
OTHER = "id: w\nany: [Tula]\nnotify: {channels: [email]}\n"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 14, 12, 0, tzinfo=UTC))


def test_picks_up_a_change_after_min_interval(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, min_interval=2.0, clock=clock)
    first, matcher = watcher.current()
    assert fired(matcher, item("Kaluga")) == ["w"]
    write_rules(tmp_path, w__yaml=OTHER)
    assert watcher.current()[0] is first  # not re-checked before min_interval
    clock.advance(seconds=2)
    second, matcher = watcher.current()
    assert second.version != first.version
    assert fired(matcher, item("Tula")) == ["w"]
    assert watcher.status()["loaded_at"] == "2026-03-14T12:00:02+00:00"


def test_broken_change_keeps_last_good_set(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, min_interval=1.0, clock=clock)
    good, _ = watcher.current()
    write_rules(tmp_path, w__yaml=GOOD + "bogus: 1\n")
    clock.advance(seconds=1)
    assert watcher.current()[0] is good
    status = watcher.status()
    assert status["version"] == good.version
    assert status["last_error"] == f"{tmp_path}/w.yaml:4:1: unknown key 'bogus'"
    assert status["loaded_at"] == "2026-03-14T12:00:00+00:00"


def test_failing_example_keeps_last_good_set(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, min_interval=1.0, clock=clock)
    good, _ = watcher.current()
    write_rules(tmp_path, w__yaml=OTHER + "examples: {match: [Kaluga]}\n")
    clock.advance(seconds=1)
    assert watcher.current()[0] is good
    assert "should match watch 'w' but does not" in watcher.status()["last_error"]
    write_rules(tmp_path, w__yaml=OTHER)
    clock.advance(seconds=1)
    assert watcher.current()[0].version != good.version
    assert watcher.status()["last_error"] is None


def test_unknown_channel_is_a_reload_error(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, channels={"email"}, clock=clock)
    good, _ = watcher.current()
    write_rules(tmp_path, w__yaml=GOOD.replace("email", "pager"))
    clock.advance(seconds=5)
    assert watcher.current()[0] is good
    assert "unknown channel 'pager' (known: email)" in watcher.status()["last_error"]


def test_no_good_set_ever_raises(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml="id: [\n")
    watcher = RulesWatcher(tmp_path, clock=clock)
    with pytest.raises(RuleSetError):
        watcher.current()
    assert watcher.status()["version"] is None


def test_oversized_file_is_fingerprinted_without_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:  # sparse: no disk used
        out.truncate(64 * 2**20)
    first = fingerprint(tmp_path)
    with huge.open("r+b") as out:
        out.truncate(64 * 2**20 + 1)
    assert fingerprint(tmp_path) != first


def test_huge_file_is_reported_and_last_good_set_kept(tmp_path: Path, clock: FrozenClock) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, clock=clock)
    good, _ = watcher.current()
    with (tmp_path / "huge.yaml").open("wb") as out:
        out.truncate(8 * 2**20)
    clock.advance(seconds=5)
    assert watcher.current()[0] is good
    assert watcher.status()["last_error"].endswith(
        "huge.yaml:1:1: file is larger than 1048576 bytes"
    )


def test_expected_languages_are_viewed_at_load(tmp_path: Path, clock: FrozenClock) -> None:
    """``worker.item_languages``: their index views exist before the first item (no item pays
    for building one); other languages still get theirs on first use."""
    write_rules(tmp_path, w__yaml=GOOD)
    _, matcher = RulesWatcher(tmp_path, clock=clock, languages=["de", "pl"]).current()
    assert set(matcher.index.views) == {"de", "pl"}
    _, plain = RulesWatcher(tmp_path, clock=clock).current()
    assert plain.index.views == {}


def test_each_new_set_gives_the_freed_heap_back(
    tmp_path: Path, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build frees about as much as it keeps; a shard of 250k watches stayed ~50 MiB over."""
    calls: list[int] = []
    monkeypatch.setattr("alerts.matching.reload.give_back_freed", lambda: calls.append(1))
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, min_interval=1.0, clock=clock)
    watcher.current()
    assert calls == [1]
    clock.advance(seconds=1)
    watcher.current()  # nothing changed: nothing built, nothing to give back
    assert calls == [1]
    write_rules(tmp_path, w__yaml=OTHER)
    clock.advance(seconds=1)
    watcher.current()
    assert calls == [1, 1]


def test_a_new_set_is_frozen_not_walked_by_the_next_collections(
    tmp_path: Path, clock: FrozenClock
) -> None:
    import gc

    gc.unfreeze()
    try:
        write_rules(tmp_path, w__yaml=GOOD)
        RulesWatcher(tmp_path, clock=clock).current()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_status_is_made_again_after_each_load_and_handed_out_as_a_copy(
    tmp_path: Path, clock: FrozenClock
) -> None:
    write_rules(tmp_path, w__yaml=GOOD)
    watcher = RulesWatcher(tmp_path, min_interval=1.0, clock=clock)
    first, _ = watcher.current()
    watcher.status()["version"] = "scribbled"  # the caller's copy
    assert watcher.status()["version"] == first.version
    write_rules(tmp_path, w__yaml=OTHER)
    clock.advance(seconds=1)
    second, _ = watcher.current()
    assert watcher.status() == {
        "version": second.version,
        "watches": 1,
        "loaded_at": "2026-03-14T12:00:01+00:00",
        "last_error": None,
    }
    write_rules(tmp_path, w__yaml=GOOD + "bogus: 1\n")
    clock.advance(seconds=1)
    watcher.current()
    assert watcher.status()["last_error"] == f"{tmp_path}/w.yaml:4:1: unknown key 'bogus'"
