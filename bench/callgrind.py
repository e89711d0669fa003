"""Instruction counts under callgrind for the bench scripts that measure one step in process.

The script runs itself under valgrind with instrumentation off (``--instr-atstart=no``), turns
it on around the measured span (``control("-i", "on")``), dumps it as ``measured`` and turns it
off again; ``measured_instructions`` reads that dump's total.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def control(*args: str) -> None:
    """Tell callgrind about this process: instrumentation on or off, a dump."""
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, capture_output=True)


def measured_instructions(script: str, *args: str, echo: bool = False) -> int:
    """Run ``script`` with ``args`` under callgrind; the instructions of its measured span
    (``echo``: what the script printed is printed here first)."""
    with tempfile.TemporaryDirectory(prefix="alerts-callgrind-") as name:
        argv = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={name}/cg.%p", sys.executable, script, *args,
        ]  # fmt: skip
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        if echo:
            print(out.rstrip())
        texts = [dump.read_text(errors="replace") for dump in Path(name).glob("cg.*")]
        (text,) = [t for t in texts if re.search(r"^desc: Trigger: dump measured", t, re.M)]
        total = re.search(r"^summary: (\d+)", text, re.M)
        assert total, "no summary in the callgrind dump"
        return int(total[1])


@contextmanager
def instrumented(on: bool) -> Iterator[None]:
    """Count the instructions of the block when ``on`` (the script runs under callgrind)."""
    if on:
        control("-i", "on")
    yield
    if on:
        control("-d", "measured")
        control("-i", "off")
