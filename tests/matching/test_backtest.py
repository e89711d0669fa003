"""The pure backtest: per-watch counts and samples; durations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.matching.backtest import backtest
from alerts.rules.notify import parse_duration
from tests.matching.helpers import item, ruleset_of


def test_counts_and_samples(tmp_path: Path) -> None:
    ruleset = ruleset_of(
        tmp_path,
        "watches:\n"
        "  - {id: k, any: [Kaluga], notify: {channels: [email]}}\n"
        "  - {id: t, any: [Tula], notify: {channels: [slack]}}\n",
    )
    items = [item(f"Kaluga {n}", id=f"i{n}") for n in range(5)] + [item("nothing", id="x")]
    ticks: list[int] = []
    report = backtest(ruleset, items, samples=2, on_item=lambda: ticks.append(1))
    assert (report.items, len(ticks), report.ruleset_version) == (6, 6, ruleset.version)
    by_id = {w.watch: w for w in report.watches}
    assert (by_id["k"].alerts, by_id["t"].alerts) == (5, 0)
    assert [s.item_id for s in by_id["k"].samples] == ["i0", "i1"]
    assert by_id["k"].samples[0].clause == "Kaluga"
    assert report.to_json()["watches"][1] == {
        "watch": "t", "name": "t", "channels": ["slack"], "alerts": 0, "samples": []
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", timedelta(days=7)), ("12h", timedelta(hours=12)), ("30m", timedelta(minutes=30)),
     ("90s", timedelta(seconds=90)), ("2w", timedelta(weeks=2)), ("1.5d", timedelta(hours=36))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_bad_duration() -> None:
    with pytest.raises(ValueError, match="invalid duration '7 days'"):
        parse_duration("7 days")
