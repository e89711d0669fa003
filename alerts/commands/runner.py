"""``alerts run``: Redis (embedded when none is configured), a worker, beat and the API, as one.

The children live in sessions of their own, so only ``run`` decides when they stop: on Ctrl-C,
SIGTERM or SIGHUP (a closed terminal) it stops them all. If ``run`` itself is killed outright,
its watchdog (``alerts.commands.watchdog``) stops them instead.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import httpx

from alerts.commands.embedded_redis import EmbeddedRedis
from alerts.settings import load_settings

# The demo's files live in the source tree, beside this package (`make run` runs from a clone).
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_CONFIG = EXAMPLES / "alerts.yaml"
EXAMPLE_BULLETIN = EXAMPLES / "bulletin.txt"
MAX_RESTARTS = 20
# Celery warns when a worker runs as root; in the demo that line only hides the alerts.
ROOT_WARNING = "ignore:You're running the worker with superuser privileges"


def say(text: str) -> None:
    """Print one line of ``run``'s own; a closed terminal is no reason to stop cleaning up."""
    with contextlib.suppress(OSError):
        print(f"[run] {text}", flush=True)


def child_commands(state_dir: Path) -> dict[str, list[str]]:
    """The processes ``run`` supervises; each is also a command of its own for compose."""
    alerts = [sys.executable, "-m", "alerts"]
    return {
        "worker": [*alerts, "worker", "--quiet"],
        "beat": [*alerts, "beat", "--quiet", "--schedule", str(state_dir / "celerybeat-schedule")],
        "api": [*alerts, "api"],
    }


def prepare_env(example: bool) -> tuple[dict[str, str], str | None]:
    """The children's environment, and the API token when this session made one.

    ``--example`` always reads the example's settings file (an ``alerts.yaml`` copied from
    ``alerts.example.yaml`` would want real SMTP and Slack secrets). Variables the user set
    still win over the file.
    """
    env = dict(os.environ)
    if example:
        if not EXAMPLE_CONFIG.exists():
            raise SystemExit(
                f"alerts run --example: {EXAMPLE_CONFIG} is missing (run from a clone)"
            )
        env["ALERTS_CONFIG"] = str(EXAMPLE_CONFIG)
        env.setdefault("ALERTS_RULES_DIR", str(EXAMPLES.parent / "rules"))
        env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), ROOT_WARNING]))
    made = None
    if not env.get("ALERTS_API_TOKEN"):
        made = env["ALERTS_API_TOKEN"] = secrets.token_urlsafe(24)
    return env, made


class Children:
    """The supervised processes, each in its own process group known to the watchdog."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.watchdog = subprocess.Popen(
            [sys.executable, "-m", "alerts.commands.watchdog"],
            stdin=subprocess.PIPE,
            env=env,
            start_new_session=True,
        )

    def tell(self, order: str) -> None:
        """Send one order to the watchdog (see ``alerts.commands.watchdog``)."""
        assert self.watchdog.stdin is not None
        self.watchdog.stdin.write(f"{order}\n".encode())
        self.watchdog.stdin.flush()

    def start(self, name: str, cmd: list[str]) -> None:
        """Start (or restart) one child in a session of its own."""
        old = self.procs.get(name)
        if old is not None:  # its group may outlive it (a worker's pool): no orphans
            _kill_group(old.pid)
            self.tell(f"forget {old.pid}")
        self.procs[name] = subprocess.Popen(cmd, env=self.env, start_new_session=True)
        self.tell(f"group {self.procs[name].pid}")

    def stop_all(self) -> None:
        """SIGTERM every child (a warm shutdown), then SIGKILL what lingers, groups included."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            _kill_group(proc.pid)

    def release(self) -> None:
        """Everything is stopped and cleaned: the watchdog may exit."""
        try:
            self.tell("done")
            assert self.watchdog.stdin is not None
            self.watchdog.stdin.close()
        except OSError:
            pass
        self.watchdog.wait(5)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def run(*, example: bool, state_dir: Path = Path("var")) -> int:
    """Start everything, submit the example when asked, and stop it all on Ctrl-C or hang-up."""
    env, made_token = prepare_env(example)
    os.environ.update(env)
    settings = load_settings()
    if "log_level" not in settings.model_fields_set:  # one console: the alerts, then warnings
        env["ALERTS_LOG_LEVEL"] = "WARNING"
    stop = _install_signal_flag()
    children = Children(env)
    # The demo keeps nothing: its Redis and beat's schedule go in a folder deleted on exit.
    work = Path(tempfile.mkdtemp(prefix="alerts-demo-")) if example else None
    if work:
        children.tell(f"dir {work}")
    state = work or state_dir
    state.mkdir(parents=True, exist_ok=True)
    redis_server = None
    try:
        if not settings.redis_url:
            redis_server = _embedded_redis(state, children)
        commands = child_commands(state)
        for name, cmd in commands.items():
            children.start(name, cmd)
        api = f"http://{settings.api_host}:{settings.api_port}"
        if _wait_healthy(api, children.procs, stop):
            _announce(api, made_token, example)
            if example:
                _submit_example(api, env["ALERTS_API_TOKEN"])
        return _supervise(children, commands, stop)
    finally:
        children.stop_all()
        if redis_server:
            redis_server.stop()
        if work:
            shutil.rmtree(work, ignore_errors=True)
        children.release()
        say("stopped")


def _embedded_redis(state: Path, children: Children) -> EmbeddedRedis:
    """Start a Redis for this run; its URL goes to the children's environment."""
    server = EmbeddedRedis(state / "redis").start()
    children.tell(f"group {server.pid}")
    children.env["ALERTS_REDIS_URL"] = os.environ["ALERTS_REDIS_URL"] = server.url
    say(f"embedded Redis on {server.url}, data in {server.data_dir}")
    return server


def _announce(api: str, made_token: str | None, example: bool) -> None:
    say(f"ready: API on {api}")
    say(f"console: {api}/console/ (sign in with {made_token or 'your ALERTS_API_TOKEN'})")
    if made_token:
        say(f"API token for this session: {made_token}")
        say(f"  from another shell: export ALERTS_API_TOKEN={made_token}")
    if example:
        say("the example's alerts follow; Ctrl-C stops everything")


def _supervise(children: Children, commands: dict[str, list[str]], stop: Callable[[], bool]) -> int:
    """Restart a child that exits on its own (a Celery worker can die when Redis drops)."""
    restarts = 0
    while not stop():
        time.sleep(0.2)
        for name, proc in list(children.procs.items()):
            if proc.poll() is None or stop():
                continue
            if restarts >= MAX_RESTARTS:
                say(f"{name} exited ({proc.returncode}); giving up")
                return 1
            restarts += 1
            say(f"{name} exited ({proc.returncode}); restarting")
            time.sleep(1.0)
            children.start(name, commands[name])
    return 0


def _install_signal_flag() -> Callable[[], bool]:
    flag = {"stop": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        flag["stop"] = True

    # A closed terminal (SIGHUP) stops the service like Ctrl-C does, children included.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    return lambda: flag["stop"]


def _wait_healthy(
    api: str, procs: dict[str, subprocess.Popen[bytes]], stop: Callable[[], bool]
) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stop():
        if any(p.poll() is not None for p in procs.values()):
            return False
        try:
            if httpx.get(f"{api}/healthz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def _submit_example(api: str, token: str) -> None:
    data = EXAMPLE_BULLETIN.read_bytes()
    resp = httpx.post(
        f"{api}/v1/bulletins?source=example",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        timeout=10,
    )
    if resp.status_code != 202:
        say(f"the example bulletin was refused: HTTP {resp.status_code} {resp.text}")
        return
    body = resp.json()
    say(f"example bulletin submitted: {body['accepted']} items, {body['new']} new")
