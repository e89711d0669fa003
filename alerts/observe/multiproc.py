"""The directory prometheus-client's multiprocess mode shares between a service's processes.

Celery's prefork children and several API workers each count in their own process; the
endpoint sums the files they write here. prometheus-client picks its storage when it is first
imported, so the directory must be in ``PROMETHEUS_MULTIPROC_DIR`` before that: the metrics
module calls ``ensure_dir`` ahead of its import, and ``alerts api`` calls it in the parent
before uvicorn starts its workers. This module never imports prometheus-client.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
# The pid of the process that made the directory: only that process removes it. After
# ``os.execv`` (``alerts worker`` becomes Celery) the pid is the same, so Celery removes it.
OWNER_ENV = "BULLETIN_ALERTS_METRICS_OWNER"


def ensure_dir() -> Path:
    """The multiprocess directory: an inherited one, or a fresh private one removed at exit.

    A directory set by the operator is used as it is (clean it between runs, as
    prometheus-client asks); a service must not share one with another service.
    """
    current = os.environ.get(ENV)
    if current:
        if os.environ.get(OWNER_ENV) == str(os.getpid()):
            _remove_at_exit(Path(current))
        return Path(current)
    path = Path(tempfile.mkdtemp(prefix="alerts-metrics-"))
    os.environ[ENV] = str(path)
    os.environ[OWNER_ENV] = str(os.getpid())
    _remove_at_exit(path)
    return path


_registered: set[Path] = set()


def _remove_at_exit(path: Path) -> None:
    if path in _registered:
        return
    _registered.add(path)
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # never from a forked child that inherited the hook
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
