"""Health checks that answer in bounded time, whatever the services behind them do.

A frozen Redis (SIGSTOP, a full disk, a paused VM) accepts connections and never replies:
a check that waits on it would hang /healthz for minutes. Each check runs in a daemon thread
of its own (a hung one never holds up the process's exit); a call waits for it up to a shared
deadline and reports None ("no answer") when it is late. A check still running is not started
again, so a long freeze holds one thread per check, never one per request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from typing import Any


class Probes:
    """Named checks run in parallel; ``__call__`` returns their results within ``deadline``."""

    def __init__(self, checks: Mapping[str, Callable[[], Any]], *, deadline: float) -> None:
        self.checks = dict(checks)
        self.deadline = deadline
        self._lock = threading.Lock()
        self._running: dict[str, Future[Any]] = {}

    def __call__(self) -> dict[str, Any]:
        """Each check's result, or None for a check that failed or did not answer in time."""
        futures = {name: self._start(name) for name in self.checks}
        until = time.monotonic() + self.deadline
        return {name: _result(f, until) for name, f in futures.items()}

    def _start(self, name: str) -> Future[Any]:
        with self._lock:
            running = self._running.get(name)
            if running is None or running.done():
                running = self._running[name] = Future()
                check = self.checks[name]
                worker = threading.Thread(
                    target=_run, args=(check, running), name=f"probe-{name}", daemon=True
                )
                worker.start()
            return running


def _run(check: Callable[[], Any], future: Future[Any]) -> None:
    try:
        future.set_result(check())
    except Exception as exc:  # reported as "no answer" by _result
        future.set_exception(exc)


def _result(future: Future[Any], until: float) -> Any:
    try:
        return future.result(timeout=max(0.0, until - time.monotonic()))
    except Exception:  # late (TimeoutError) or failed: unknown either way
        return None
