"""kombu's Redis QoS (the unacked records and acks of a channel) for ``workers/redis_transport``:
plain pipelines instead of MULTI ... EXEC, and the records and acks the channel holds in the
worker's event loop (see that module's docstring).

Per task message kombu records the message as unacknowledged (``ZADD unacked_index`` + ``HSET
unacked``) when it is delivered and drops both when it is acked, each pair wrapped in MULTI ...
EXEC: 8 commands in 2 round trips. The MULTI guards nothing here: the restore sweep only takes
entries older than the visibility timeout, never one being written or acked this moment, and it
WATCHes ``unacked`` itself. ``QoS`` sends each pair as a plain pipeline (same round trips, 4
commands less); the restore keeps kombu's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual

from workers import inflight


class QoS(kombu_redis.QoS):
    """kombu's QoS whose own pipelines (record, ack) run without MULTI ... EXEC."""

    @contextmanager
    def pipe_or_acquire(self, pipe: Any = None, client: Any = None) -> Iterator[Any]:
        """The caller's pipeline (the restore's transaction), else a plain one."""
        if pipe:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as conn:
            yield conn.pipeline(transaction=False)

    def append(self, message: Any, delivery_tag: str) -> None:
        """Record the message as unacked, unless the pop script just did; in the event loop,
        the record goes before the loop next waits (``Channel.hold_record``). A supervised solo
        worker notes the tag for its supervisor first (``workers/inflight.py``)."""
        if inflight.CURRENT is not None:
            inflight.CURRENT.add(delivery_tag)
        if delivery_tag == self.channel.recorded or self.channel.hold_record(message, delivery_tag):
            virtual.QoS.append(self, message, delivery_tag)
            return
        super().append(message, delivery_tag)

    def ack(self, delivery_tag: str) -> None:
        """Drop the unacked entry now, or with the pop or flush this loop iteration sends."""
        if inflight.CURRENT is not None:
            inflight.CURRENT.discard(delivery_tag)
        if self.channel.defer_ack(delivery_tag):
            virtual.QoS.ack(self, delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        """kombu's reject, once the held records are in Redis (a requeue restores from one)."""
        self.channel.flush_acks()
        super().reject(delivery_tag, requeue)
        if inflight.CURRENT is not None:
            inflight.CURRENT.discard(delivery_tag)

    def restore_unacked(self, client: Any = None) -> None:
        """kombu's restore of what this channel holds, once the held records are in Redis."""
        self.channel.flush_acks()
        super().restore_unacked(client)
        if inflight.CURRENT is not None:
            inflight.CURRENT.clear()
