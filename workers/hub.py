"""The worker's event loop without the epoll calls that change nothing.

Before every poll, the prefork pool's hook (``AsynPool.on_poll_start``) hands each child's
job pipe to the loop: with jobs waiting, ``hub.add`` for each idle child's pipe (already there
mostly: a failed ``epoll_ctl(ADD)``, EEXIST, raised and swallowed), else ``hub.remove_writer``
for each (mostly not there: a failed ``epoll_ctl(DEL)``, ENOENT, swallowed). With two children
and two or three ticks per task message that was four to six failed system calls and as many
exceptions per task in the pool's parent. ``LeanHub`` skips the two cases where the call would
change nothing: the loop's own tables (``readers``, ``writers``, ``consolidate``) tell.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps
from kombu.utils.eventio import READ, WRITE


def trim(hub: Any) -> None:
    """Give ``hub`` (kombu's ``Hub``) an ``add`` and a ``remove_writer`` that skip no-ops."""
    add, remove_writer = hub.add, hub.remove_writer

    def lean_add(
        fd: Any, callback: Any, flags: int, args: Any = (), consolidate: bool = False
    ) -> Any:
        # A consolidated writer is recorded as ``writers[fd] = None``: already so, nothing to do.
        if consolidate and flags & WRITE and not flags & READ and _known_writer(hub, fd):
            return None
        return add(fd, callback, flags, args, consolidate)

    def lean_remove_writer(fd: Any) -> Any:
        # Neither a reader nor a writer of the loop: nothing registered to remove.
        if isinstance(fd, int) and fd not in hub.writers and fd not in hub.readers:
            return None
        return remove_writer(fd)

    hub.add, hub.remove_writer = lean_add, lean_remove_writer


def _known_writer(hub: Any, fd: Any) -> bool:
    return isinstance(fd, int) and fd in hub.consolidate and hub.writers.get(fd, 0) is None


class LeanHub(bootsteps.StartStopStep):
    """Worker bootstep: trims the event loop (``trim``) before the pool registers with it."""

    requires = ("celery.worker.components:Hub",)

    def include_if(self, w: Any) -> bool:
        """Only where the worker runs an event loop (prefork with the loop, not solo)."""
        return bool(getattr(w, "use_eventloop", False))

    def create(self, w: Any) -> None:
        """Trim the worker's hub once it exists."""
        if w.hub is not None:
            trim(w.hub)
