"""Fixtures for hostile-input tests: the naughty strings corpus and a marker file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BLNS = ROOT.parent / "shared" / "corpora" / "naughty-strings" / "blns.json"
# How every rule error prints: ``path:line:col: message``.
RULE_ERROR = re.compile(r"^(?P<path>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<message>\S[^\n]*)$")


@pytest.fixture(scope="session")
def naughty() -> list[str]:
    """The Big List of Naughty Strings; skips when ../shared is absent."""
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings/blns.json is not present")
    strings = json.loads(BLNS.read_text(encoding="utf-8"))
    return [s for s in strings if isinstance(s, str)]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file that a successful code-execution payload would create."""
    return tmp_path / "PWNED"


def alerts_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``alerts ARGS`` in a subprocess, bounded by a timeout (fails rather than hangs)."""
    return subprocess.run(
        [sys.executable, "-m", "alerts", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
