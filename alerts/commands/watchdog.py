"""The watchdog of ``alerts run``: stops its children when it dies, even by SIGKILL.

``alerts run`` starts this first, as ``python -m alerts.commands.watchdog``, in a session of its own
(so neither Ctrl-C nor a closed terminal reaches it) and keeps the write end of its stdin.
It tells the watchdog each child's process group (``group PGID``, ``forget PGID``) and each
folder to delete (``dir PATH``), and ``done`` once it has stopped everything itself. If the
pipe closes without ``done``, its parent is gone without cleaning up: the watchdog sends
SIGTERM to every group (a Celery worker's pool children are in its group), SIGKILL to what is
left after a grace period, and deletes the folders.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterable

GRACE_SECONDS = 10.0


def _alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal(groups: Iterable[int], sig: int) -> None:
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)


def stop_groups(groups: set[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM each process group, then SIGKILL the ones still alive after ``grace`` s."""
    _signal(groups, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(_alive(g) for g in groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    _signal([g for g in groups if _alive(g)], signal.SIGKILL)


def main() -> int:
    """Read orders from stdin until ``done``; on EOF without it, clean up after the parent."""
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    groups: set[int] = set()
    folders: list[str] = []
    for line in sys.stdin:
        order, _, arg = line.strip().partition(" ")
        if order == "done":
            return 0
        if order == "group":
            groups.add(int(arg))
        elif order == "forget":
            groups.discard(int(arg))
        elif order == "dir":
            folders.append(arg)
    stop_groups(groups)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
