"""``alerts run``: Redis (embedded when none is configured), a worker, beat and the API, as one."""

from __future__ import annotations

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

from alerts.embedded_redis import EmbeddedRedis
from alerts.settings import load_settings

EXAMPLE_CONFIG = Path("examples/alerts.yaml")
EXAMPLE_BULLETIN = Path("examples/bulletin.txt")
MAX_RESTARTS = 20


def child_commands(state_dir: Path) -> dict[str, list[str]]:
    """The processes ``run`` supervises; each is also a command of its own for compose."""
    alerts = [sys.executable, "-m", "alerts"]
    return {
        "worker": [*alerts, "worker"],
        "beat": [*alerts, "beat", "--schedule", str(state_dir / "celerybeat-schedule")],
        "api": [*alerts, "api"],
    }


def prepare_env(example: bool) -> dict[str, str]:
    """The environment the children get: example config and a session API token when unset."""
    env = dict(os.environ)
    if example and "ALERTS_CONFIG" not in env and not Path("alerts.yaml").exists():
        env["ALERTS_CONFIG"] = str(EXAMPLE_CONFIG)
    if not env.get("ALERTS_API_TOKEN"):
        env["ALERTS_API_TOKEN"] = secrets.token_urlsafe(24)
    return env


def run(*, example: bool, state_dir: Path = Path("var")) -> int:
    """Start everything, submit the example when asked, and stop it all on Ctrl-C."""
    generated = not os.environ.get("ALERTS_API_TOKEN")  # a session token is shown, yours is not
    env = prepare_env(example)
    os.environ.update(env)
    state_dir.mkdir(parents=True, exist_ok=True)  # beat's schedule lives here (not in git)
    settings = load_settings()
    redis_server = None
    if not settings.redis_url:
        # The demo starts from an empty Redis each time, so it always shows the example's alerts.
        data_dir = Path(tempfile.mkdtemp(prefix="alerts-demo-")) if example else state_dir / "redis"
        redis_server = EmbeddedRedis(data_dir).start()
        env["ALERTS_REDIS_URL"] = os.environ["ALERTS_REDIS_URL"] = redis_server.url
        print(f"[run] embedded Redis on {redis_server.url}", flush=True)
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stop = _install_signal_flag()
    try:
        for name, cmd in child_commands(state_dir).items():
            procs[name] = subprocess.Popen(cmd, env=env, start_new_session=True)
            print(f"[run] started {name} (pid {procs[name].pid})", flush=True)
        api = f"http://{settings.api_host}:{settings.api_port}"
        if _wait_healthy(api, procs, stop):
            token = env["ALERTS_API_TOKEN"] if generated else "your ALERTS_API_TOKEN"
            print(f"[run] console: {api}/console/ (sign in with {token})", flush=True)
            if example:
                _submit_example(api, env["ALERTS_API_TOKEN"])
        return _supervise(procs, child_commands(state_dir), env, stop)
    finally:
        _stop_all(procs)
        if redis_server:
            redis_server.stop()
            if example:
                shutil.rmtree(redis_server.data_dir, ignore_errors=True)
        print("[run] stopped", flush=True)


def _supervise(
    procs: dict[str, subprocess.Popen[bytes]],
    commands: dict[str, list[str]],
    env: dict[str, str],
    stop: Callable[[], bool],
) -> int:
    """Restart a child that exits on its own (a Celery worker can die when Redis drops)."""
    restarts = 0
    while not stop():
        time.sleep(0.2)
        for name, proc in procs.items():
            if proc.poll() is None or stop():
                continue
            if restarts >= MAX_RESTARTS:
                print(f"[run] {name} exited ({proc.returncode}); giving up", flush=True)
                return 1
            restarts += 1
            print(f"[run] {name} exited ({proc.returncode}); restarting", flush=True)
            time.sleep(1.0)
            procs[name] = subprocess.Popen(commands[name], env=env, start_new_session=True)
    return 0


def _install_signal_flag() -> Callable[[], bool]:
    flag = {"stop": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        flag["stop"] = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
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
                print(f"[run] ready: API on {api}", flush=True)
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
    print(f"[run] example bulletin submitted: HTTP {resp.status_code} {resp.text}", flush=True)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
