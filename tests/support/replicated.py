"""A real master and replica (two local redis-servers) whose replica can be frozen."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from tests.support.redis_server import RedisServer


@contextmanager
def master_and_replica() -> Iterator[tuple[RedisServer, RedisServer]]:
    """Both servers started, the replica in sync with the master."""
    master, replica = RedisServer().start(), RedisServer().start()
    try:
        client = redis.Redis(port=replica.port)
        client.replicaof("127.0.0.1", master.port)
        deadline = time.monotonic() + 20
        while client.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not sync")
            time.sleep(0.05)
        yield master, replica
    finally:
        replica.stop()
        master.stop()


@contextmanager
def frozen(server: RedisServer) -> Iterator[None]:
    """SIGSTOP the server (it acknowledges nothing) until the block ends."""
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
