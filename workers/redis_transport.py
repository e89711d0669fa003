"""kombu's Redis transport, with one fix so a worker rides out a broker restart, and one
round trip's worth of commands less per task.

When Redis drops, Celery's consumer (``on_connection_error_after_connected``) first calls
``Connection.collect()``: closing the default channel fails there (its pending BRPOP read
raises a connection error, so the channel stays open), and the transport is then detached
(``transport.client = None``). The ``connection.close()`` that follows closes that channel
again; its QoS restores unacked messages, which needs a fresh Redis pool, whose parameters
are read from ``transport.client``: ``AttributeError: 'NoneType' object has no attribute
'hostname'``. That is no connection error, so ``ignore_errors`` lets it through and the worker
stops with "Unrecoverable error" (the same fault as kombu#582; kombu main still reads
``self.connection.client`` unguarded). Here a detached channel raises a Redis
``ConnectionError`` instead: ``ignore_errors`` swallows it and the consumer reconnects. The
unacked messages stay in Redis and come back with the next restore sweep.

Per task message kombu records the message as unacknowledged (``ZADD unacked_index`` +
``HSET unacked``) when it is delivered and drops both when it is acked, each pair wrapped in
MULTI ... EXEC: 8 commands in 2 round trips. The MULTI guards nothing here: the restore sweep
only takes entries older than the visibility timeout, never one being written or acked this
moment, and it WATCHes ``unacked`` itself. ``QoS`` below sends each pair as a plain pipeline
(same round trips, 4 commands less); the restore keeps kombu's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from kombu.transport import redis as kombu_redis


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


class Channel(kombu_redis.Channel):
    """A Redis channel that reports a detached transport as a connection error."""

    QoS = QoS

    def _connparams(self, asynchronous: bool = False) -> Any:
        transport = self.connection
        if transport is None or transport.client is None:
            raise redis.ConnectionError("broker connection already closed")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    """kombu's Redis transport using ``Channel`` above."""

    Channel = Channel


TRANSPORT = f"{__name__}:Transport"


def transport_for(url: str) -> str | None:
    """This transport for redis:// and rediss:// URLs (others keep kombu's choice)."""
    return TRANSPORT if url.startswith(("redis://", "rediss://")) else None
