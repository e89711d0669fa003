"""The connection ``LeanRedis`` keeps for a client, and the short read of a reply on it.

A reply is fed from the socket into the connection's hiredis reader here; anything but a
plain reply (an error, a push) and any failed read are handed to redis-py's
``read_response``, with what the short read saw, so its exception classes, push handling and
dropping of a failed connection stay redis-py's (8.2). ``ready`` runs the pool's readiness
check unless the socket is plainly idle.
"""

from __future__ import annotations

import os
import select
import threading
from typing import Any

from redis._parsers.hiredis import NOT_ENOUGH_DATA

# Replies ``read_response`` treats apart: errors (raised), pushes (handled, then read on);
# every list is taken for a push with a hiredis before 3.2 (none without hiredis: no reader).
_APART: tuple[type, ...] = (Exception, list)
try:
    from hiredis import PushNotification

    _APART = (Exception, PushNotification)
except ImportError:
    pass


class Kept:
    """One connection of the pool, kept out of it for this client in the process that took
    it; ``busy`` is held while a command runs on it."""

    __slots__ = ("buffer", "busy", "conn", "direct", "pid", "poller", "reader", "sock")

    def __init__(self, conn: Any) -> None:
        self.conn, self.pid, self.busy = conn, os.getpid(), threading.Lock()
        self.sock: Any = None
        self.reader: Any = None
        self.poller: Any = None
        self.buffer: Any = None
        self.direct = False
        self._watch()

    def ready(self, pool: Any) -> None:
        """The connection ready for a command, as the pool's ``ensure_connection`` leaves it:
        that check itself unless the socket is the one watched, plain, and idle."""
        conn = self.conn
        if (
            conn._sock is self.sock
            and self.poller is not None
            and not self.reader.has_data()
            and not self.poller.poll(0)
        ):
            return
        pool.ensure_connection(conn)
        self._watch()

    def _watch(self) -> None:
        """Register the connection's current socket; a TLS one is never taken as idle (its
        decrypted bytes may wait above the socket, where ``poll`` does not see them)."""
        sock = self.sock = self.conn._sock
        self.reader = getattr(self.conn._parser, "_reader", None)
        self.poller = None
        if sock is not None and self.reader is not None and not hasattr(sock, "pending"):
            self.poller = select.poll()
            self.poller.register(sock, select.POLLIN)
        self.buffer = getattr(self.conn._parser, "_buffer", None)
        self.direct = self.poller is not None and not self.conn.health_check_interval

    def read(self) -> Any:
        """The reply to the command just sent, fed from the socket into the hiredis reader
        here; redis-py's ``read_response`` takes over for any other reply and any failure."""
        reader, sock, buffer = self.reader, self.sock, self.buffer
        reply, failed = NOT_ENOUGH_DATA, None
        try:
            reply = reader.gets()
            while reply is NOT_ENOUGH_DATA:
                got = sock.recv_into(buffer)
                if not got:  # the server closed it: redis-py's error for that, below
                    break
                reader.feed(buffer, 0, got)
                reply = reader.gets()
        except BaseException as error:  # given to redis-py below, which raises it
            failed = error
        if failed is None and reply is not NOT_ENOUGH_DATA:
            if not isinstance(reply, _APART) and not (
                type(reply) is list and reply and isinstance(reply[0], Exception)
            ):
                return reply
            return self._replayed(sock, _Given(reader, reply))
        return self._replayed(_Failing(sock, failed), reader)

    def _replayed(self, sock: Any, reader: Any) -> Any:
        """redis-py's ``read_response`` with the parser on ``sock`` and ``reader`` for this
        once: what the fast read saw, handed over for redis-py's handling of it (an error
        raised as its class, a failure translated and the connection dropped)."""
        parser = self.conn._parser
        parser._sock, parser._reader = sock, reader
        try:
            return self.conn.read_response()
        finally:
            if parser._sock is sock:  # not dropped by redis-py: the real ones back
                parser._sock, parser._reader = self.sock, self.reader


class _Failing:
    """The kept socket as a failed read left it: ``recv_into`` fails again the same way
    (reads nothing when the server closed it); all else is the socket's own."""

    def __init__(self, sock: Any, failure: BaseException | None) -> None:
        self.sock, self.failure = sock, failure

    def recv_into(self, *args: Any) -> int:
        """Fail as the kept socket did."""
        if self.failure is None:
            return 0
        raise self.failure

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


class _Given:
    """The connection's hiredis reader with one reply taken from it already: that reply
    first, then the reader's own."""

    def __init__(self, reader: Any, reply: Any) -> None:
        self.reader, self.reply, self.given = reader, reply, False

    def gets(self, *args: Any) -> Any:
        """The reply taken already, then the reader's."""
        if self.given:
            return self.reader.gets(*args)
        self.given = True
        return self.reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.reader, name)
