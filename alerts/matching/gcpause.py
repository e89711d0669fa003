"""Pausing the cyclic garbage collector while a rule set is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic GC off (as it was before, afterwards).

    Building 100k watches allocates millions of objects that all stay alive; each young
    collection would walk them again, which took as long as the build itself. Reference
    counting still frees everything as usual; only the search for cycles waits.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
