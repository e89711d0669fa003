"""The Celery consumer's own Redis commands, sent in one write on one kept connection.

The held unacked records and acks (``redis_transport``) went through a redis-py ``Pipeline``:
a new ``Redis`` client and pipeline per flush, each argument through redis-py's encoder, its
callbacks on every reply; about 43 µs of the pool parent's CPU per flush of one record and
one ack, 9 µs this way (the same four commands on loopback), packed by the connection's
hiredis packer (``redis_pack``, set by ``redis_transport``). The commands are kombu's
(``QoS.append``: ``ZADD`` + ``HSET`` of ``[message, exchange, routing_key]``; ``QoS.ack``:
``ZREM`` + ``HDEL``); ``tests/workers/test_redis_wire.py`` holds them to kombu's own.

A record's value is the message as ``BRPOP`` brought it (its JSON text, not kombu's decoded
dict encoded again): what the pop script (``redis_pop``) writes too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kombu.utils.json import dumps
from redis.exceptions import ResponseError

Command = tuple[Any, ...]


def record_commands(
    index_key: str, unacked_key: str, tag: str, at: float, value: Any
) -> list[Command]:
    """kombu's unacked record of a message: its tag scored by the time it was taken, and its
    ``[message, exchange, routing_key]``."""
    return [("ZADD", index_key, repr(at), tag), ("HSET", unacked_key, tag, value)]


def ack_commands(index_key: str, unacked_key: str, tag: str) -> list[Command]:
    """kombu's ack: the message's unacked entries dropped."""
    return [("ZREM", index_key, tag), ("HDEL", unacked_key, tag)]


def record_value(raw: bytes | None, message: Any) -> bytes | str:
    """``[message, exchange, routing_key]`` as JSON: from the message's own text ``raw`` when
    there is one, else from kombu's decoded message (its ``_raw``)."""
    delivery = message.delivery_info
    exchange, routing_key = delivery["exchange"], delivery["routing_key"]
    if raw is None:
        return dumps([message._raw, exchange, routing_key])  # kombu's: its own types too
    tail = f",{json.dumps(exchange)},{json.dumps(routing_key)}]".encode()
    return b"[" + raw + tail


def round_trip(conn: Any, commands: Sequence[Command]) -> list[Any]:
    """Send ``commands`` in one write and read their replies, with ``conn``'s retry policy
    (redis-py's, as its pipeline had; every command here may run twice). An error reply is
    raised once every reply is read, as a pipeline does."""
    packed = conn.pack_commands(commands)  # the connection's packer (``redis_pack``)
    return conn.retry.call_with_retry(  # type: ignore[no-any-return]
        lambda: _send_and_read(conn, packed, len(commands)), lambda _: conn.disconnect()
    )


def _send_and_read(conn: Any, packed: list[bytes], count: int) -> list[Any]:
    conn.send_packed_command(packed)
    replies: list[Any] = []
    error: ResponseError | None = None
    for _ in range(count):
        try:
            replies.append(conn.read_response())
        except ResponseError as exc:
            error = error or exc
            replies.append(exc)
    if error is not None:
        raise error
    return replies
