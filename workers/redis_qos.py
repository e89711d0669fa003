"""kombu's Redis QoS (the unacked records and acks of a channel) for ``workers/redis_transport``:
plain pipelines instead of MULTI ... EXEC, and the records and acks the channel holds in the
worker's event loop (see that module's docstring)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps


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
        the record goes before the loop next waits (``Channel.hold_record``)."""
        if delivery_tag == self.channel.recorded or self.channel.hold_record(message, delivery_tag):
            virtual.QoS.append(self, message, delivery_tag)
            return
        super().append(message, delivery_tag)

    def record(self, pipe: Any, message: Any, delivery_tag: str, at: float) -> None:
        """Queue kombu's unacked record of ``message`` (taken at ``at``) on ``pipe``."""
        delivery = message.delivery_info
        pipe.zadd(self.unacked_index_key, {delivery_tag: at})
        pipe.hset(self.unacked_key, delivery_tag,
                  dumps([message._raw, delivery["exchange"], delivery["routing_key"]]))  # fmt: skip

    def ack(self, delivery_tag: str) -> None:
        """Drop the unacked entry now, or with the pop or flush this loop iteration sends."""
        if self.channel.defer_ack(delivery_tag):
            virtual.QoS.ack(self, delivery_tag)
            return
        super().ack(delivery_tag)

    def reject(self, delivery_tag: str, requeue: bool = False) -> None:
        """kombu's reject, once the held records are in Redis (a requeue restores from one)."""
        self.channel.flush_acks()
        super().reject(delivery_tag, requeue)

    def restore_unacked(self, client: Any = None) -> None:
        """kombu's restore of what this channel holds, once the held records are in Redis."""
        self.channel.flush_acks()
        super().restore_unacked(client)
