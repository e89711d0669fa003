"""Pausing the cyclic garbage collector while a rule set is built, and giving back what the
build freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class _Pauses:
    """How many builds are under way; the collector's state before the first began."""

    lock = threading.Lock()
    depth = 0
    was_enabled = False
    freeze = False  # asked by one of them: freeze what is alive when the last one ends


class Pause:
    """One pause; ``keep()`` asks that what is alive when the last pause ends be frozen."""

    def keep(self) -> None:
        """Freeze (``gc.freeze``) what is alive when the last pause ends, instead of letting
        the first collections walk it: everything allocated in a pause is still young, so a
        young, then a middle, then a full collection would each walk a fresh rule set (about
        10% of a 100k-watch build). For long-lived objects with no reference cycles only."""
        with _Pauses.lock:
            _Pauses.freeze = True


@contextmanager
def paused_gc() -> Iterator[Pause]:
    """Run the block with the cyclic GC off; it comes back on when the last such block ends.

    Building 100k watches allocates millions of objects that all stay alive; each young
    collection would walk them again, which took as long as the build itself. Reference
    counting still frees everything as usual; only the search for cycles waits.
    The switch is process-wide, so overlapping pauses (nested, or builds in two threads)
    are counted: the first one to start records the state, the last one to end restores it,
    whether it ends normally or by an exception.
    """
    with _Pauses.lock:
        if _Pauses.depth == 0:
            _Pauses.was_enabled = gc.isenabled()
            gc.disable()
        _Pauses.depth += 1
    try:
        yield Pause()
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0:
                if _Pauses.freeze:
                    gc.freeze()
                    _Pauses.freeze = False
                if _Pauses.was_enabled:
                    gc.enable()


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none (musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _libc_trim()


def give_back_freed() -> bool:
    """Return the C heap's free pages to the system; False where that cannot be done.

    Building a rule set frees as much as it keeps (parsed specs, per-term scratch), but
    glibc keeps freed pages mapped: a 250k-watch shard's resident size stayed about 50 MiB
    over what it holds. A worker calls this once after each rule set it loads.
    """
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
