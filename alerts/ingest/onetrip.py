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
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping
from typing import Any

import hiredis
import redis.asyncio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

Arg = str | bytes | int | float


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
        conn = await pool.get_connection()
        try:
            return await conn.retry.call_with_retry(
                lambda: self._round_trip(conn, packed), lambda error: conn.disconnect()
            )
        finally:
            await pool.release(conn)

    async def _round_trip(self, conn: Any, packed: bytes) -> list[Any]:
        if not conn.is_connected:
            await conn.connect()  # its errors are redis-py's own ("... connecting to ...")
        await conn.check_health()
        replies: list[Any] = []
        try:
            async with asyncio.timeout(conn.socket_timeout):  # None: no timeout
                await _write(conn, packed)
                for _ in self.commands:
                    try:  # under the trip's timeout, not one of its own
                        replies.append(await conn.read_response(timeout=math.inf))
                    except ResponseError as exc:  # read whole: the next reply is on the wire
                        replies.append(exc)
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
