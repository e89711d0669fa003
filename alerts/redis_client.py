"""Our stores' redis-py client, with a shorter path for each command.

redis-py 8 (8.2.0 here) spends most of a command's client CPU around it: a pool checkout and
return (fork check, lock, observability records, ``connect()`` through the ``Retry``, a
``poll``), a ``Retry`` and a lambda, layers of calls around the read. ``LeanRedis`` keeps one
pooled connection for the client (``Kept``, in ``redis_kept``): a command is sent by the
connection (``send_command``), its reply fed from the socket into the connection's hiredis
reader and put through the client's callback. What redis-py did is kept:

- a forked child (Celery's prefork) never uses its parent's connection (pid checked);
- the pool's readiness check (``ensure_connection``: reconnect one the server closed, apply
  pending pushes, refuse unread data) runs unless the kept socket is plainly idle: the same
  socket, nothing in the reader, nothing readable (a kept ``poll``), not TLS;
- any reply but a plain one (error, push) and any failed read go to redis-py's
  ``read_response`` (its exception classes, push handling, the failed connection dropped);
  options other than ``keys``, ``HIMPORT`` and RESP2 fallbacks: ``_send_command_parse_response``;
- a failed first attempt is handed to the connection's ``Retry`` as its first failure, so
  disconnect, backoff, retries and the error raised are redis-py's;
- the reconnect after a maintenance move (``should_reconnect``).

Another thread, while one is on the kept connection, takes a pooled one (``_pooled``, without
the observability hooks). Only a plain ``ConnectionPool`` takes these paths; a Sentinel pool,
a client holding one connection or a client-side cache go redis-py's whole way, and so does a
pool given a ``max_connections`` below redis-py's default (100): the kept connection holds one
of the pool's slots for good, so with ``max_connections=1`` a pipeline after a command would
find none left. With the default bound, a client that has all 99 others in use at once finds
none one connection sooner than ``redis.Redis`` would.
``register_script`` gives a ``LeanScript``: called on its own client, it skips ``Script``'s
per-call imports and pipeline checks (a pipeline passed as ``client`` gets ``Script``'s way).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import redis
from redis.commands.core import Script
from redis.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError
from redis.himport import parse_himport_set_args

from alerts.redis_kept import Kept

# redis-py's ``max_connections`` when none is given (8.2: ``max_connections or 100``).
_DEFAULT_BOUND = 100
# Taken without waiting: a thread that finds it held takes a pooled connection instead.
_KEEPING = threading.Lock()


def _new_keeping() -> None:
    """A forked child's own ``_KEEPING``: one held by another thread at the fork would stay
    held in the child for good (no thread there to let it go), and no kept connection made."""
    global _KEEPING
    _KEEPING = threading.Lock()


os.register_at_fork(after_in_child=_new_keeping)


class LeanRedis(redis.Redis):
    """``redis.Redis`` whose commands take a kept connection, or a pooled one without the
    observability hooks (see the module)."""

    _kept: Kept | None = None

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
        """Give the kept connection back to the pool, then close as redis-py does. One another
        thread is running a command on is not given back (the pool would hand it out mid-reply);
        closing the pool disconnects it all the same. ``busy`` stays held: a thread that still
        holds this ``Kept`` takes a pooled connection."""
        kept, self._kept = self._kept, None
        if kept is not None and kept.pid == os.getpid() and kept.busy.acquire(False):
            self.connection_pool.release(kept.conn)
        super().close()

    def register_script(self, script: Any) -> Script:
        """A ``LeanScript`` of ``script`` on this client."""
        return LeanScript(self, script)

    def _keep(self) -> Kept | None:
        """A connection kept for this client (a parent's left behind), or None when the pool
        is not plain or another thread is keeping one right now."""
        if not _plain(self) or not _KEEPING.acquire(False):
            return None
        try:
            kept = self._kept
            if kept is None or kept.pid != os.getpid():
                kept = self._kept = Kept(_checkout(self.connection_pool))
            return kept
        finally:
            _KEEPING.release()

    def _on_kept(self, kept: Kept, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """The command on the kept connection, under its ``Retry`` only once it failed."""
        conn = kept.conn
        kept.ready(self.connection_pool)
        try:
            try:
                return self._run(kept, args, options)
            except Exception as error:  # redis-py's Retry sorts it out below
                failed = error
            return self._retried(conn, failed, args, options)
        finally:
            if conn.should_reconnect():
                conn.disconnect()
                conn.connect()

    def _run(self, kept: Kept, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
        """One attempt, as ``_send_command_parse_response`` makes it; that itself for what it
        treats apart (options other than ``keys``, ``HIMPORT SET``, RESP2 fallback callbacks)."""
        conn, name = kept.conn, args[0]
        if (
            (options and (len(options) > 1 or "keys" not in options))
            or conn._resp2_fallback
            or ((type(name) is not str or name[:1] in "Hh") and parse_himport_set_args(args))
        ):
            return self._send_command_parse_response(conn, name, *args, **options)
        conn.send_command(*args)
        reply = kept.read() if kept.direct and conn._sock is kept.sock else conn.read_response()
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
    """True when ``client`` runs its commands on a plain pool's connections, bounded no tighter
    than redis-py's default."""
    pool = client.connection_pool
    return (
        client.connection is None
        and type(pool) is ConnectionPool
        and getattr(pool, "cache", None) is None
        and pool.max_connections >= _DEFAULT_BOUND
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
