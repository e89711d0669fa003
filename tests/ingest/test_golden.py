"""Golden files: every fixture's items, as ``alerts parse --format json`` prints them.

Regenerate after an intended change with ``ALERTS_UPDATE_GOLDEN=1 pytest tests/ingest``, then
read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.commands.ingest import item_json
from alerts.ingest import parse_bulletin

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"
CLOCK = FrozenClock(datetime(2026, 3, 14, 18, 0, tzinfo=UTC))


def _render(path: Path) -> str:
    items = parse_bulletin(
        path.read_bytes(),
        source=path.name,
        clock=CLOCK,
        base_url=f"https://fixtures.example/{path.name}",
    )
    return "".join(json.dumps(item_json(i), ensure_ascii=False) + "\n" for i in items)


@pytest.mark.parametrize("path", sorted(FIXTURES.iterdir()), ids=lambda p: p.name)
def test_fixture_matches_its_golden_file(path: Path) -> None:
    golden = GOLDEN / f"{path.name}.jsonl"
    actual = _render(path)
    if os.environ.get("ALERTS_UPDATE_GOLDEN") == "1":
        golden.write_text(actual, encoding="utf-8")
    assert golden.exists(), f"no golden file for {path.name}: run with ALERTS_UPDATE_GOLDEN=1"
    assert actual == golden.read_text(encoding="utf-8")
