"""The sink of ``bench/pipeline.py``: the Slack-like test server in a process of its own.

In the bench process the sink's handler threads shared one GIL with the load generator's
threads, so a reply (and the arrival stamp) could wait for the interpreter behind them; the
worker waiting for that reply was the bench's doing, not the service's. Here the sink stamps
arrivals with ``time.monotonic()`` (CLOCK_MONOTONIC: one clock for every process on the
machine, so the stamps compare with the POST start times taken in the bench process) and sends
(arrival, item sequence number) pairs back.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import re
import threading
from multiprocessing.connection import Connection

import psutil

from tests.support.slack import SlackTestServer

SEQ = re.compile(r"bq(\d{8})")


def _serve(conn: Connection) -> None:
    sink = SlackTestServer().start()
    conn.send(sink.webhook_base)
    sent = 0
    while not conn.poll(0.02):  # anything from the parent means stop
        new = sink.requests_since(sent)
        if new:
            sent += len(new)
            pairs = []
            for req in new:
                m = SEQ.search(json.dumps(req.payload))
                pairs.append((req.received_at, int(m.group(1)) if m else -1))
            conn.send(pairs)
    sink.stop()


class SinkProcess:
    """Start, collect arrivals, stop; ``arrivals`` holds (monotonic time, sequence number)."""

    def __init__(self) -> None:
        self.arrivals: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._conn, child = multiprocessing.get_context("spawn").Pipe()
        self._proc = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(child,), daemon=True
        )
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self.webhook_base = ""

    def start(self) -> SinkProcess:
        """Start the process and wait for its address."""
        self._proc.start()
        self.webhook_base = self._conn.recv()
        self._thread.start()
        return self

    def _collect(self) -> None:
        try:
            while True:
                pairs = self._conn.recv()
                with self._lock:
                    self.arrivals.extend(pairs)
        except (EOFError, OSError):
            return

    def count(self) -> int:
        """Requests received so far."""
        with self._lock:
            return len(self.arrivals)

    def since(self, n: int) -> list[tuple[float, int]]:
        """Arrivals after the first ``n``."""
        with self._lock:
            return self.arrivals[n:]

    @property
    def pid(self) -> int:
        """The sink process id (its CPU is the bench's, not the service's)."""
        return int(self._proc.pid or 0)

    def cpu(self) -> float:
        """CPU seconds of the sink process so far."""
        try:
            t = psutil.Process(self.pid).cpu_times()
        except psutil.NoSuchProcess:
            return 0.0
        return float(t.user + t.system)

    def stop(self) -> None:
        """Stop the process."""
        with contextlib.suppress(OSError):
            self._conn.send("stop")
        self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.kill()


def seq_arrivals(pairs: list[tuple[float, int]]) -> dict[int, float]:
    """Item sequence number -> first arrival time."""
    out: dict[int, float] = {}
    for at, seq in pairs:
        if seq >= 0:
            out.setdefault(seq, at)
    return out
