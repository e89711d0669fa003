"""One way to open our own Redis stores: a plain/TLS URL, or a Sentinel set that names the master.

The broker (kombu) and our stores (redis-py) read the same ``sentinel://`` URL, written as kombu
writes it: ``sentinel://[:password@]host:port[/db];sentinel://host:port;...``. The service name
comes from the ``sentinel_master`` setting. redis-py's ``Sentinel.master_for`` asks the sentinels
again after a failover, so a client made here follows the new master by itself.

Replication is asynchronous: a master that dies takes its last writes with it, and the promoted
replica goes on from an earlier point. ``Durability`` makes the writes that precede an outside
promise (the API's 202, a message sent) wait until ``replicas`` replicas hold them (Redis
``WAIT``), so a failover can only roll back what nobody was told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio
from redis.asyncio.sentinel import Sentinel as AsyncSentinel
from redis.sentinel import Sentinel

from alerts.redis_client import LeanRedis, lean_supported
from alerts.redis_pack import packer_options

SENTINEL_SCHEME = "sentinel://"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+socket://", SENTINEL_SCHEME)


class NotReplicated(redis.TimeoutError):
    """Fewer replicas than asked acknowledged a write in time: it may vanish in a failover.

    A timeout, so callers treat it as a Redis outage: the API answers 503, a task is requeued."""


@dataclass(frozen=True)
class Durability:
    """How many replicas must hold a write before we act on it (0: the master alone)."""

    replicas: int = 0
    timeout_ms: int = 500

    def execute(self, pipe: Any) -> list[Any]:
        """Run ``pipe`` with ``WAIT`` as its last command (none without replicas to wait for);
        ``NotReplicated`` when fewer replicas than asked acknowledged its writes in time."""
        if self.replicas <= 0:
            return list(pipe.execute())
        pipe.wait(self.replicas, self.timeout_ms)
        return self._checked(list(pipe.execute()))

    async def execute_async(self, pipe: Any) -> list[Any]:
        """``execute`` for a ``redis.asyncio`` pipeline."""
        if self.replicas > 0:
            pipe.wait(self.replicas, self.timeout_ms)
        replies = list(await pipe.execute())
        return self._checked(replies) if self.replicas > 0 else replies

    def _checked(self, replies: list[Any]) -> list[Any]:
        acked = int(replies[-1])
        if acked < self.replicas:
            raise NotReplicated(
                f"{acked} of {self.replicas} replica(s) acknowledged within {self.timeout_ms} ms"
            )
        return replies


@dataclass(frozen=True)
class SentinelSet:
    """The sentinels of a ``sentinel://`` URL, with the database and password of the master."""

    hosts: tuple[tuple[str, int], ...]
    db: int = 0
    password: str | None = None
    username: str | None = None


def is_sentinel(url: str) -> bool:
    """True for a kombu-style ``sentinel://`` URL."""
    return url.startswith(SENTINEL_SCHEME)


def parse_sentinels(url: str) -> SentinelSet:
    """Split ``sentinel://h1:26379;sentinel://h2:26379/0``; ValueError when malformed."""
    hosts: list[tuple[str, int]] = []
    db, password, username = 0, None, None
    for part in url.split(";"):
        part = part.strip()
        if not part:
            continue
        if not is_sentinel(part):
            raise ValueError(f"every part of a Sentinel URL must start with {SENTINEL_SCHEME}")
        split = urlsplit(part)
        if not split.hostname:
            raise ValueError("a Sentinel URL part has no host")
        hosts.append((split.hostname, split.port or 26379))
        if split.password:
            password, username = unquote(split.password), split.username or None
        if split.path.strip("/"):
            db = int(split.path.strip("/"))
    if not hosts:
        raise ValueError("a Sentinel URL names no sentinel")
    return SentinelSet(tuple(hosts), db, password, username)


def connect(url: str, *, sentinel_master: str | None = None, **options: Any) -> redis.Redis:
    """A client on ``url``: ``redis://``/``rediss://`` as redis-py reads them, or the Sentinel
    set's current master (``sentinel_master`` names the service); commands packed by
    ``redis_pack.HiredisPacker``, run by ``redis_client.LeanRedis`` (not on Sentinel)."""
    options = packer_options(options)
    if not is_sentinel(url):
        kind = LeanRedis if lean_supported() else redis.Redis
        return kind.from_url(url, **options)
    return _master(Sentinel, url, sentinel_master, options)


def connect_async(
    url: str, *, sentinel_master: str | None = None, **options: Any
) -> redis.asyncio.Redis:
    """``connect`` with redis-py's asyncio client (the API's writes from its event loop)."""
    if not is_sentinel(url):
        return redis.asyncio.Redis.from_url(url, **options)
    return _master(AsyncSentinel, url, sentinel_master, options)


def _master(kind: Any, url: str, sentinel_master: str | None, options: dict[str, Any]) -> Any:
    """The current master of the Sentinel set ``url`` names, from a ``kind`` of Sentinel."""
    if not sentinel_master:
        raise ValueError("a sentinel:// URL needs the sentinel_master setting")
    found = parse_sentinels(url)
    sentinel = kind(
        list(found.hosts),
        sentinel_kwargs={"socket_timeout": options.get("socket_timeout", 2)},
        socket_timeout=options.pop("socket_timeout", 5),
        socket_connect_timeout=options.pop("socket_connect_timeout", 2),
    )
    return sentinel.master_for(
        sentinel_master,
        db=found.db,
        password=found.password,
        username=found.username,
        **options,
    )
