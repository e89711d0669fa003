"""A few Redis commands in one write, their replies read back: the API's intake write.

redis-py's asyncio pipeline cost the API about 40 µs of CPU per POST beyond the commands
themselves: every argument through its encoder, a response callback and options per command,
the HIMPORT bookkeeping and metrics hooks of each execute. The intake's write is a handful of
commands with integer replies, so ``OneTrip`` keeps them as argument tuples, packs them with
hiredis in one call and reads the replies on a connection from the client's pool, under that
connection's retry policy as the pipeline does. A connection left with replies unread (an error
or a cancellation mid-read) is dropped, never handed back to the pool out of step.

The whole trip runs under one timeout (the connection's ``socket_timeout``), where redis-py
arms one for the write (``asyncio.wait_for``: a task of its own, two more turns of the event
loop) and one per reply; it ends as redis-py's would, in ``redis.TimeoutError``.

A plain ``ConnectionPool``'s connections are taken once and then kept in a list of idle ones
per client (``_IDLE``): the pool's lock, its observability hooks and its per-checkout checks
cost about 10 µs per POST. A kept connection is checked as the pool checks it (the server
closed it, or bytes wait on it: reconnected first), and the pool still owns it (``aclose``
disconnects it). Replies are read from hiredis's reader directly, all of them in one loop
(a RESP3 push message handed to redis-py's handler as its read does), not through redis-py's
read path once per reply.
"""

from __future__ import annotations

import asyncio
import math
import weakref
from collections.abc import Mapping
from typing import Any

import hiredis
import redis.asyncio
from redis._parsers.hiredis import NOT_ENOUGH_DATA, _AsyncHiredisParser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float
# Idle connections taken from each client's plain pool (see the module's docstring).
_IDLE: weakref.WeakKeyDictionary[redis.asyncio.Redis, list[Any]] = weakref.WeakKeyDictionary()


class OneTrip:
    """Commands queued like a redis-py pipeline's (the ones the intake and its task message
    use), sent in one write by ``execute``: their replies, or the first error reply raised."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self.client = client
        self.commands: list[tuple[Arg, ...]] = []

    def exists(self, *keys: str) -> None:
        """How many of ``keys`` exist."""
        self.commands.append(("EXISTS", *keys))

    def hset(self, name: str, key: str, value: Arg) -> None:
        """One field of a hash."""
        self.commands.append(("HSET", name, key, value))

    def zadd(self, name: str, mapping: Mapping[str, float]) -> None:
        """Members of a sorted set with their scores."""
        pairs = [arg for member, score in mapping.items() for arg in (score, member)]
        self.commands.append(("ZADD", name, *pairs))

    def lpush(self, name: str, *values: Arg) -> None:
        """Values pushed at the head of a list."""
        self.commands.append(("LPUSH", name, *values))

    def wait(self, replicas: int, timeout_ms: int) -> None:
        """How many replicas hold the writes so far (``Durability``)."""
        self.commands.append(("WAIT", replicas, timeout_ms))

    async def execute(self) -> list[Any]:
        """Send the commands in one write and return their replies, in order."""
        if not self.commands:
            return []
        # hiredis types its argument as a 1-tuple: any length packs.
        packed = b"".join([hiredis.pack_command(args) for args in self.commands])  # type: ignore[arg-type]
        pool = self.client.connection_pool
        if type(pool) is not redis.asyncio.ConnectionPool:  # a Sentinel's: its master may move
            return await self._on(await pool.get_connection(), packed, pool, None)
        idle = _IDLE.get(self.client)
        if idle is None:
            idle = _IDLE[self.client] = []
        conn = idle.pop() if idle else await pool.get_connection()
        return await self._on(conn, packed, pool, idle)

    async def _on(self, conn: Any, packed: bytes, pool: Any, idle: list[Any] | None) -> list[Any]:
        """The trip on ``conn`` under its retry policy; then ``conn`` back to ``idle`` (kept
        there, connected or not) or, without one, to the pool."""
        try:
            return await conn.retry.call_with_retry(
                lambda: self._round_trip(conn, packed), lambda error: conn.disconnect()
            )
        finally:
            if idle is None:
                await pool.release(conn)
            else:
                idle.append(conn)

    async def _round_trip(self, conn: Any, packed: bytes) -> list[Any]:
        if conn.is_connected and _unusable(conn):
            await conn.disconnect()  # as the pool's check: a new connection instead
        if not conn.is_connected:
            await conn.connect()  # its errors are redis-py's own ("... connecting to ...")
        await conn.check_health()
        replies: list[Any] = []
        try:
            async with asyncio.timeout(conn.socket_timeout):  # None: no timeout
                await _write(conn, packed)
                await _read_replies(conn, len(self.commands), replies)
        except TimeoutError:
            await conn.disconnect(nowait=True)  # replies may still come: drop it
            raise RedisTimeoutError("Timeout on the intake's round trip to Redis") from None
        except OSError as exc:
            await conn.disconnect(nowait=True)
            raise RedisConnectionError(f"Error writing to Redis: {exc}") from exc
        except BaseException:
            await conn.disconnect(nowait=True)  # replies still on the socket: drop it
            raise
        for reply in replies:
            if isinstance(reply, ResponseError):
                raise reply
        return replies


def _unusable(conn: Any) -> bool:
    """The pool's check of a connection it hands out: the server closed it, or bytes wait."""
    parser = conn._parser
    if not isinstance(parser, _AsyncHiredisParser) or parser._reader is None:
        return False  # redis-py's own read path checks it as it reads
    stream = conn._reader
    return bool(
        parser._reader.has_data()
        or stream.at_eof()
        or stream.exception() is not None
        or stream._buffer
    )


async def _read_replies(conn: Any, count: int, replies: list[Any]) -> None:
    """``count`` replies into ``replies`` (error replies as their exceptions): from hiredis's
    reader in one loop on a RESP2 connection, else through redis-py's read per reply."""
    parser = conn._parser
    if not isinstance(parser, _AsyncHiredisParser):
        for _ in range(count):
            try:  # under the trip's timeout, not one of its own
                replies.append(await conn.read_response(timeout=math.inf))
            except ResponseError as exc:  # read whole: the next reply is on the wire
                replies.append(exc)
        return
    reader: Any = parser._reader  # set by the connect
    push = parser._hiredis_PushNotificationType
    while len(replies) < count:
        reply = reader.gets()
        if reply is NOT_ENOUGH_DATA:
            await parser.read_from_socket()  # ConnectionError when the server closed it
            continue
        if push is not None and isinstance(reply, push):  # RESP3: handled as redis-py does
            await parser.handle_push_response(reply)
            continue
        if isinstance(reply, RedisConnectionError):  # e.g. LOADING: raised as redis-py does
            raise reply
        replies.append(reply)
    if conn.health_check_interval:  # as redis-py's read: the next PING after the interval
        conn.next_health_check = asyncio.get_running_loop().time() + conn.health_check_interval


async def _write(conn: Any, packed: bytes) -> None:
    """``packed`` on the connection's stream, as redis-py's ``send_packed_command`` writes it
    but without its ``wait_for`` (the caller's timeout covers it); through that method when
    the stream is not there to write to."""
    writer = getattr(conn, "_writer", None)
    if writer is None or writer.transport.is_closing():
        await conn.send_packed_command(packed, check_health=False)  # its own errors
        return
    writer.write(packed)
    await writer.drain()
