"""kombu's Redis transport, with one fix so a worker rides out a broker restart.

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
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    """A Redis channel that reports a detached transport as a connection error."""

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
