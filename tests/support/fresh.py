"""Cyclic garbage counted in a fresh interpreter.

``gc.collect()`` counts every thread's unreachable cycles. In the suite's process an earlier
test's threads (or frozen objects it left, freed meanwhile) add to that count or take from it:
CI counted 97 objects from elsewhere in two such checks. A check that some code leaves no cycle
runs that code alone, in a Python of its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cycles_left(code: str) -> int:
    """The objects ``gc.collect()`` frees right after ``code`` ran in a fresh interpreter
    (working directory: the project's root): the cycles ``code`` left. Its assertions hold
    there, or this fails with its error output."""
    script = textwrap.dedent(code) + "\nimport gc\nprint(gc.collect())\n"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])
