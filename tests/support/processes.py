"""Real service processes for tests: a Celery worker, beat and the API, as `alerts` runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

from alerts.observe.multiproc import ENV as METRICS_DIR_ENV
from alerts.observe.multiproc import OWNER_ENV as METRICS_OWNER_ENV

ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp: Path, **settings: object) -> Path:
    """Write a settings file and return its path (used as ALERTS_CONFIG)."""
    path = tmp / "alerts.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def service_env(config: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """Environment for a child process: our settings only, nothing inherited from the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    # Each service makes its own metrics directory (the tests' process may have one).
    env = {k: v for k, v in env.items() if k not in (METRICS_DIR_ENV, METRICS_OWNER_ENV)}
    env.update(ALERTS_CONFIG=str(config), ALERTS_REDIS_URL=redis_url, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


class Service:
    """One child process with its output captured to a file."""

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], *, cwd: Path = ROOT
    ) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log = Path(tempfile.mkstemp(prefix=f"alerts-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.final: str | None = None  # the output, once stopped and its log file deleted

    def start(self) -> Service:
        """Start the process in its own session, in ``cwd`` (the repository root by default)."""
        if self.final is not None:  # started again after a stop: its log goes on
            self.log.write_text(self.final, encoding="utf-8")
            self.final = None
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def output(self) -> str:
        """Everything the process printed so far."""
        if self.final is not None:
            return self.final
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, needle: str, timeout: float = 60, *, count: int = 1) -> None:
        """Block until ``needle`` appears ``count`` times in the output (or fail with it)."""
        deadline = time.monotonic() + timeout
        while self.output().count(needle) < count:
            if self.proc is None or self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{self.name} never printed {needle!r}:\n{self.output()}")
            time.sleep(0.1)

    def kill_group(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (the worker and its pool children)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM (warm shutdown), then SIGKILL the group if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.kill_group(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill_group(signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
        self.final = self.output()  # kept in memory: tests leave no files behind
        self.log.unlink(missing_ok=True)


def start_worker(
    env: dict[str, str], *, name: str = "w1", concurrency: int = 2, args: tuple[str, ...] = ()
) -> Service:
    """A real Celery worker (`alerts worker ARGS`), ready to consume."""
    argv = [
        sys.executable,
        "-m",
        "alerts",
        "worker",
        "--concurrency",
        str(concurrency),
        "--name",
        f"{name}@%h",
        *args,
    ]
    service = Service(f"worker-{name}", argv, env).start()
    service.wait_for_output("ready.")
    return service


def start_api(env: dict[str, str], port: int) -> Service:
    """The real API (`alerts api`) on a loopback port, once it answers."""
    argv = [sys.executable, "-m", "alerts", "api", "--host", "127.0.0.1", "--port", str(port)]
    service = Service("api", argv, env).start()
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            return service
        except httpx.HTTPError:
            if time.monotonic() > deadline or (service.proc and service.proc.poll() is not None):
                raise AssertionError(f"api did not start:\n{service.output()}") from None
            time.sleep(0.2)
