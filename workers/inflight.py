"""The task messages a supervised solo worker holds, written where its supervisor reads them.

A solo worker runs each task in its one process: when that process dies mid-task (SIGKILL, the
OOM killer, a crash in C code) no pool parent is left to requeue the message at once, as the
prefork parent does (``task_reject_on_worker_lost``), and it would wait in Redis's unacked set
for the visibility timeout. ``workers/supervisor.py`` starts each solo worker with a file of its
own (``ENV``); the worker's Redis QoS (``redis_qos``) notes there each delivery tag it records
as unacked and clears it at the ack, reject or restore. The file is a shared memory map: a note
is two memory writes, no system call, and it outlives the process that wrote it. A supervised
worker also asks to be SIGTERMed when its supervisor dies (``die_with_parent``).

The layout: ``SLOTS`` slots of ``WIDTH`` bytes (64 KiB), each a length byte (0: free) and the
tag's ASCII bytes. A solo worker holds one task message at a time, plus those it keeps for a
countdown (a delivery retried after a 429's ``Retry-After``: Celery raises the prefetch for
each); past ``SLOTS`` of them, or a tag that does not fit, a message is left to the visibility
timeout, as before, and the worker says so once.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import signal
import sys
from pathlib import Path

log = logging.getLogger(__name__)
ENV = "BULLETIN_ALERTS_INFLIGHT"  # not ALERTS_*: the settings would call it unknown
PARENT_ENV = "BULLETIN_ALERTS_SUPERVISOR"  # the supervisor's pid
PR_SET_PDEATHSIG = 1
SLOTS = 1024
WIDTH = 64


class Inflight:
    """The writer: the delivery tags one worker process holds unacked, by slot."""

    def __init__(self, path: str | Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, SLOTS * WIDTH)
            self._map = mmap.mmap(fd, SLOTS * WIDTH)
        finally:
            os.close(fd)
        self._map[:] = bytes(SLOTS * WIDTH)  # a new process holds nothing yet
        self._slots: dict[str, int] = {}
        self._free = list(range(SLOTS - 1, -1, -1))
        self._full_said = False

    def add(self, tag: str) -> None:
        """Note ``tag`` as held (before its unacked record is written)."""
        data = tag.encode("ascii", "replace")
        if tag in self._slots:
            return
        if not self._free or len(data) >= WIDTH:
            if not self._full_said:
                self._full_said = True
                log.warning(
                    "in-flight file full or tag too long: %r left to the visibility timeout", tag
                )
            return
        slot = self._free.pop()
        start = slot * WIDTH
        self._map[start + 1 : start + 1 + len(data)] = data
        self._map[start] = len(data)  # last: a slot is whole once its length is set
        self._slots[tag] = slot

    def discard(self, tag: str) -> None:
        """``tag`` is acked, rejected or restored: no longer this process's to requeue."""
        slot = self._slots.pop(tag, None)
        if slot is not None:
            self._map[slot * WIDTH] = 0
            self._free.append(slot)

    def clear(self) -> None:
        """Every held message went back to its queue (the channel's restore at close)."""
        for tag in list(self._slots):
            self.discard(tag)


def held(path: str | Path) -> list[str]:
    """The tags a (dead) worker's file holds, in slot order; none for a missing file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    tags = []
    for start in range(0, min(len(data), SLOTS * WIDTH), WIDTH):
        size = data[start]
        if 0 < size < WIDTH:
            tags.append(data[start + 1 : start + 1 + size].decode("ascii", "replace"))
    return tags


def die_with_parent(parent: int) -> None:
    """Have this process SIGTERMed (a warm shutdown) when its supervisor ``parent`` dies
    (``PR_SET_PDEATHSIG``, Linux; elsewhere nothing), or at once if it is already gone."""
    if not sys.platform.startswith("linux"):
        return
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the call: no signal would come
        os.kill(os.getpid(), signal.SIGTERM)


def _from_env() -> Inflight | None:
    path = os.environ.get(ENV)
    if not path:
        return None
    parent = os.environ.get(PARENT_ENV, "")
    if parent.isdigit():
        die_with_parent(int(parent))
    return Inflight(path)


# This process's file: set in a supervised solo worker, None elsewhere (prefork, the API, tests).
CURRENT = _from_env()
