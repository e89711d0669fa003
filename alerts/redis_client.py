"""Our stores' redis-py client, with a shorter path for each command.

redis-py 8 (8.2.0 here) spends most of a command's client CPU around the command rather than
on it: a pool checkout and return per command (fork check, lock, observability records, a
``connect()`` through the ``Retry`` and a ``poll`` to see that the idle connection is clean),
a ``Retry`` and a lambda around the command. ``LeanRedis`` keeps one pooled connection out
of the pool for the thread that holds the client (``_Kept``), and runs a command on it with
redis-py's own ``_send_command_parse_response`` (packing, sending, reading, parsing, errors
raised as redis-py's classes). What the pool did per command is kept, more cheaply:

- a connection made in a parent process is never used in a forked child (Celery's prefork
  children): the kept one is dropped when the pid changes, and the pool resets itself;
- the readiness check of ``ConnectionPool.ensure_connection`` (reconnect a connection the
  server closed, apply pending push notifications, refuse unread data) runs as redis-py's
  whenever the kept socket is not plainly idle: a new socket, buffered bytes in the reader,
  anything readable on the socket (a ``poll`` kept registered), or TLS (its own buffer);
- the connection's ``Retry``: the first attempt runs without it; when it fails, that failure
  is handed to ``Retry.call_with_retry`` as its first, so the retry policy (disconnect,
  backoff, retries, then the error raised) is redis-py's;
- the reconnect after a maintenance move (``should_reconnect``) after each command;
- the pool's ``max_connections``: the kept connection is one of the pool's, counted in use.

A second thread using the client while the first is on the kept connection takes a pooled
one, the way every command did before (``_pooled``: the pool's ``release``, without
redis-py 8's observability hooks). Only a plain ``ConnectionPool`` (``redis://``,
``rediss://``, ``unix://``) takes these paths; a Sentinel pool, a client holding one
connection, or a pool with a client-side cache go redis-py's whole way.

``register_script`` gives a ``LeanScript``: called on its own client, it skips ``Script``'s
per-call imports and pipeline checks (a pipeline passed as ``client`` gets ``Script``'s way).
"""

from __future__ import annotations

import os
import select
import threading
from typing import Any

import redis
from redis.commands.core import Script
from redis.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError
from redis.himport import parse_himport_set_args

# Taken without waiting: a thread that finds it held takes a pooled connection instead.
_KEEPING = threading.Lock()


class _Kept:
    """One connection of the pool, kept out of it for this client in the process that took
    it; ``busy`` is held while a command runs on it."""

    __slots__ = ("busy", "conn", "pid", "poller", "reader", "sock")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pid = os.getpid()
        self.busy = threading.Lock()
        self.sock: Any = None
        self.reader: Any = None
        self.poller: Any = None
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


class LeanRedis(redis.Redis):
    """``redis.Redis`` whose commands take a kept connection, or a pooled one without the
    observability hooks (see the module)."""

    _kept: _Kept | None = None

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command on the kept connection, else on a pooled one, else redis-py's way."""
        kept = self._kept
        if kept is None or kept.pid != os.getpid():
            kept = self._keep()
            if kept is None:
                return self._pooled(args, options)
        if not kept.busy.acquire(False):
            return self._pooled(args, options)
        try:
            return self._on_kept(kept, args, options)
        finally:
            kept.busy.release()

    def close(self) -> None:
        """Give the kept connection back to the pool, then close as redis-py does."""
        kept, self._kept = self._kept, None
        if kept is not None and kept.pid == os.getpid():
            self.connection_pool.release(kept.conn)
        super().close()

    def register_script(self, script: Any) -> Script:
        """A ``LeanScript`` of ``script`` on this client."""
        return LeanScript(self, script)

    def _keep(self) -> _Kept | None:
        """A connection kept for this client (a parent's left behind), or None when the pool
        is not plain or another thread is keeping one right now."""
        if not _plain(self) or not _KEEPING.acquire(False):
            return None
        try:
            kept = self._kept
            if kept is None or kept.pid != os.getpid():
                kept = self._kept = _Kept(_checkout(self.connection_pool))
            return kept
        finally:
            _KEEPING.release()

    def _on_kept(self, kept: _Kept, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        conn = kept.conn
        kept.ready(self.connection_pool)
        try:
            try:
                return self._run(conn, args, options)
            except Exception as error:  # redis-py's Retry sorts it out below
                failed = error
            return self._retried(conn, failed, args, options)
        finally:
            if conn.should_reconnect():
                conn.disconnect()
                conn.connect()

    def _run(self, conn: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """One attempt of the command on ``conn``: sent and read by the connection, its reply
        through the client's callback, as ``_send_command_parse_response`` does; that itself
        for what it treats apart (options other than ``keys``, ``HIMPORT SET``, a RESP2
        fallback's callbacks)."""
        name = args[0]
        if (
            (options and (len(options) > 1 or "keys" not in options))
            or conn._resp2_fallback
            or ((type(name) is not str or name[:1] in "Hh") and parse_himport_set_args(args))
        ):
            return self._send_command_parse_response(conn, name, *args, **options)
        conn.send_command(*args)
        reply = conn.read_response()
        callback = self.response_callbacks.get(name)
        return reply if callback is None else callback(reply)

    def _retried(
        self, conn: Any, failed: Exception, args: tuple[Any, ...], options: dict[str, Any]
    ) -> Any:
        """The command under ``conn.retry`` once its first attempt raised ``failed``: the
        retry sees that error first, then runs the attempts its policy allows."""
        first = [failed]

        def attempt() -> Any:
            if first:
                raise first.pop()
            return self._send_command_parse_response(conn, args[0], *args, **options)

        return conn.retry.call_with_retry(attempt, lambda _: conn.disconnect())

    def _pooled(self, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """The command on a connection checked out for it alone; redis-py's whole way when
        the pool is not plain."""
        if not _plain(self):
            return super().execute_command(*args, **options)
        pool = self.connection_pool
        conn = _checkout(pool)
        try:
            return conn.retry.call_with_retry(
                lambda: self._send_command_parse_response(conn, args[0], *args, **options),
                lambda _: conn.disconnect(),
            )
        finally:
            try:
                if conn.should_reconnect():
                    conn.disconnect()
                    conn.connect()
            finally:
                pool.release(conn)


class LeanScript(Script):
    """``redis.commands.core.Script``, called on its own client without the per-call checks."""

    def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        """EVALSHA the script; on NOSCRIPT load it and run it again, as ``Script`` does."""
        if client is not None and client is not self.registered_client:
            return super().__call__(keys, args, client)
        own = self.registered_client
        keys = keys or ()
        every = (*keys, *args) if args else tuple(keys)
        try:
            return own.execute_command("EVALSHA", self.sha, len(keys), *every)
        except NoScriptError:
            self.sha = own.script_load(self.script)
            return own.execute_command("EVALSHA", self.sha, len(keys), *every)


def _plain(client: redis.Redis) -> bool:
    """True when ``client`` runs its commands on a plain pool's connections."""
    pool = client.connection_pool
    return (
        client.connection is None
        and type(pool) is ConnectionPool
        and getattr(pool, "cache", None) is None
    )


def _checkout(pool: Any) -> Any:
    """``ConnectionPool.get_connection`` without its observability records."""
    pool._checkpid()
    with pool._lock:
        try:
            conn = pool._available_connections.pop()
        except IndexError:
            conn = pool.make_connection()
        pool._in_use_connections.add(conn)
    try:
        pool.ensure_connection(conn)
    except BaseException:
        pool.release(conn)  # not leaked: back in the pool, as redis-py does
        raise
    return conn


def lean_supported() -> bool:
    """True when this redis-py's pool has the parts ``_checkout`` uses (redis-py 6 and later)."""
    needed = ("_checkpid", "make_connection", "ensure_connection", "release")
    pool = all(hasattr(ConnectionPool, name) for name in needed)
    return pool and hasattr(AbstractConnection, "should_reconnect")
