"""A real Redis Sentinel set as local processes: one master, one replica, three sentinels."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.support.redis_server import RedisServer, free_port, redis_binary

MASTER = "alerts-master"


class SentinelSet:
    """Master and replica on free ports, watched by three sentinels (quorum 2)."""

    def __init__(self, *, down_after_ms: int = 1000, failover_timeout_ms: int = 5000) -> None:
        self.master = RedisServer(appendonly=True)
        self.replica = RedisServer(appendonly=True)
        self.ports = [free_port() for _ in range(3)]
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.dir = Path(tempfile.mkdtemp(prefix="alerts-sentinel-"))
        self.procs: list[subprocess.Popen[bytes]] = []

    def url(self, db: int = 0) -> str:
        """The kombu-style URL naming all three sentinels."""
        return ";".join(f"sentinel://127.0.0.1:{p}/{db}" for p in self.ports)

    def start(self) -> SentinelSet:
        """Start master, replica (in sync) and the sentinels (all agreeing on the master)."""
        self.master.start()
        self.replica.start()
        replica = redis.Redis(port=self.replica.port)
        replica.replicaof("127.0.0.1", self.master.port)
        for n, port in enumerate(self.ports):
            conf = self.dir / f"sentinel-{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER} {self.down_after_ms}\n"
                f"sentinel failover-timeout {MASTER} {self.failover_timeout_ms}\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            argv = [redis_binary(), str(conf), "--sentinel"]
            out = (self.dir / f"sentinel-{n}.log").open("ab")
            self.procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT))
        self._wait(lambda: replica.info("replication")["master_link_status"] == "up")
        self._wait(lambda: all(self._sees_replica(p) for p in self.ports))
        return self

    def _sees_replica(self, port: int) -> bool:
        try:
            client = redis.Redis(port=port, socket_timeout=1)
            peers = client.sentinel_sentinels(MASTER)
            return bool(client.sentinel_slaves(MASTER)) and len(peers) >= 2
        except redis.RedisError:
            return False

    @staticmethod
    def _wait(ready: object, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():  # type: ignore[operator]
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the Sentinel set did not come up")
            time.sleep(0.1)

    def master_port(self) -> int:
        """The port the sentinels currently name as master."""
        client = redis.Redis(port=self.ports[0], socket_timeout=1)
        return int(client.sentinel_get_master_addr_by_name(MASTER)[1])

    def kill_master(self) -> float:
        """SIGKILL the master; returns when (monotonic) it died."""
        self.master.stop(kill=True)
        return time.monotonic()

    def wait_promoted(self, timeout: float = 60) -> float:
        """Block until the sentinels name the replica master; returns when (monotonic)."""
        self._wait(lambda: self.master_port() == self.replica.port, timeout)
        promoted = redis.Redis(port=self.replica.port)
        self._wait(lambda: promoted.info("replication")["role"] == "master")
        return time.monotonic()

    def rejoin_old_master(self, timeout: float = 120) -> None:
        """Restart the killed master as a replica of the master the sentinels name now, as a
        supervisor's start script does (it asks ``SENTINEL get-master-addr-by-name``). The
        sentinels would convert it too, but once took over a minute to on a loaded CI machine.
        Blocks until it is in sync. A link still down after ``retry_every`` seconds, with no
        sync under way, gets a new handshake (``REPLICAOF NO ONE`` then the master again: a
        repeated ``REPLICAOF`` of the same master changes nothing), as an operator would; on a
        timeout the error carries both servers' replication state and log tails (once, on a
        loaded CI machine, the link stayed down for a minute with nothing to show why)."""
        self.master.start()
        old = redis.Redis(port=self.master.port, socket_timeout=5)
        retry_every, deadline = 30.0, time.monotonic() + timeout
        while True:
            port = self._named_master()
            old.replicaof("127.0.0.1", port)
            while time.monotonic() < deadline:
                try:
                    self._wait(
                        lambda: old.info("replication").get("master_link_status") == "up",
                        min(retry_every, max(0.0, deadline - time.monotonic())),
                    )
                    return
                except RuntimeError:
                    if not self._syncing(old):
                        break  # no sync under way: a new handshake
            if time.monotonic() >= deadline:
                raise RuntimeError(self._rejoin_state(old, port))
            old.replicaof("no", "one")

    def _named_master(self, timeout: float = 30) -> int:
        """``master_port``, asked again while a loaded sentinel times out."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.master_port()
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    @staticmethod
    def _syncing(client: redis.Redis) -> bool:
        """True while a full sync is under way (it may be slow, not stuck)."""
        try:
            return str(client.info("replication").get("master_sync_in_progress")) == "1"
        except redis.RedisError:
            return False

    def _rejoin_state(self, old: redis.Redis, port: int) -> str:
        """What a failed rejoin shows: both servers' replication state and log tails."""
        new = redis.Redis(port=port, socket_timeout=5)
        parts = ["the old master did not sync with the new one"]
        for name, client, server in (("old", old, self.master), ("new", new, self.replica)):
            try:
                parts.append(f"{name} (port {server.port}): {client.info('replication')}")
            except redis.RedisError as exc:
                parts.append(f"{name} (port {server.port}): {exc!r}")
            parts.append(f"{name}'s log:\n{server.log_tail()}")
        return "\n".join(parts)

    def stop(self) -> None:
        """Stop the sentinels, then both servers."""
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []
        self.replica.stop()
        self.master.stop()
