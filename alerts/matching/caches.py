"""The matcher's per-process word caches, sized together from one figure.

An item's words are keyed once and remembered (``keytable``, one table per stem language)
and a compounding language's long words also have their parts keyed (``compounds``). Both
start over when full, so a shard that runs for days holds no more than this, whatever the
feed: three quarters for the word tables, one quarter for compound parts.
"""

from __future__ import annotations

from alerts.matching import compounds, keytable

MIB = 2**20
DEFAULT_MIB = (keytable.CACHE_BYTES + compounds.CACHE_BYTES) / MIB


def set_cache_mib(total: float) -> None:
    """Bound the word caches together to ``total`` MiB (at process start: they start empty)."""
    if total <= 0:
        raise ValueError("the word caches need a positive size")
    budget = int(total * MIB)
    keytable.set_cache_bytes(budget * 3 // 4)
    compounds.set_cache_bytes(budget - budget * 3 // 4)


def cache_bytes() -> int:
    """Bytes the word caches hold now, as counted against their budgets."""
    return sum(t.nbytes() for t in keytable.tables()) + compounds.nbytes()
