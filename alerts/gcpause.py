"""Pausing the cyclic garbage collector while a rule set is built."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Pauses:
    """How many builds are under way; the collector's state before the first began."""

    lock = threading.Lock()
    depth = 0
    was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
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
        yield
    finally:
        with _Pauses.lock:
            _Pauses.depth -= 1
            if _Pauses.depth == 0 and _Pauses.was_enabled:
                gc.enable()
