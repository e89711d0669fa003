"""Sharded watches: a stable hash splits the watches of a rule set across N shards.

Every host computes the same split from the watch id alone (not Python's salted ``hash``), so a
shard's workers on any host hold the same watches, and an alert's deliveries can be routed to
the shard that knows its watch's notify options.
"""

from __future__ import annotations

import hashlib

QUEUE = "alerts"  # the Celery queue of everything but sharded matching
SHARD_QUEUE = "alerts.shard.{}"  # one per shard: its matches, deliveries and digests


def shard_queue(shard: int) -> str:
    """The queue of one shard."""
    return SHARD_QUEUE.format(shard)


def shard_of(watch: str, shards: int) -> int:
    """The shard (0 .. shards-1) of a watch id."""
    digest = hashlib.blake2b(watch.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def in_shard(watch: str, shard: int, shards: int) -> bool:
    """Whether a watch id belongs to one shard: the loader's ``keep`` for a shard's workers,
    which then hold only their watches (the version stays the whole set's)."""
    return shard_of(watch, shards) == shard
