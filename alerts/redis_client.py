"""Our stores' redis-py client, with a shorter path for each command.

redis-py 8 wraps every command in its observability hooks (a timer, pool names, connection
counts recorded on checkout, on return and per command) and a deprecated-arguments check on
the pool's checkout: about a fifth of a command's client CPU, spent even with observability
off. ``LeanRedis`` keeps the rest as redis-py does it: the pool's fork check and lock, its
health check of a connection handed out (``ensure_connection``: reconnect a closed one, refuse
one with unread data), the connection's ``Retry`` (an outage disconnects and retries, then
raises), the reconnect after a maintenance move, the pool's own ``release``.

``register_script`` gives a ``LeanScript``: called on its own client, it skips ``Script``'s
per-call imports and pipeline checks (a pipeline passed as ``client`` gets ``Script``'s way).

Only a plain ``ConnectionPool`` (``redis://``, ``rediss://``, ``unix://``) takes the short path;
a Sentinel pool, a client holding one connection, or a pool with a client-side cache go
redis-py's whole way.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.commands.core import Script
from redis.connection import AbstractConnection, ConnectionPool
from redis.exceptions import NoScriptError


class LeanRedis(redis.Redis):
    """``redis.Redis`` whose commands skip the observability hooks (see the module)."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        """Run one command on a pooled connection; redis-py's way when the pool is not plain."""
        pool = self.connection_pool
        if (
            self.connection is not None
            or type(pool) is not ConnectionPool
            or getattr(pool, "cache", None) is not None
        ):
            return super().execute_command(*args, **options)
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

    def register_script(self, script: Any) -> Script:
        """A ``LeanScript`` of ``script`` on this client."""
        return LeanScript(self, script)


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
