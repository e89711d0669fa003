"""Each compose service's command starts as a local process; `alerts run --example` shows alerts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import yaml

from tests.support.processes import ROOT, Service, service_env, write_config
from tests.support.redis_server import free_port


def compose_command(service: str, tmp: Path) -> list[str]:
    """The service's command from docker-compose.yml, run with this virtualenv's Python."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    argv = [a.replace("/app/var", str(tmp)) for a in compose["services"][service]["command"]]
    assert argv[0] == "alerts"
    return [sys.executable, "-m", "alerts", *argv[1:]]


def test_compose_commands_start_locally(tmp_path: Path, redis_url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    config = write_config(
        tmp_path,
        rules_dir=str(ROOT / "rules"),
        api_token="t",
        channels={"email": "console://", "slack": "console://", "digest": "console://"},
    )
    port = free_port()
    env = service_env(config, redis_url, ALERTS_API_PORT=str(port))
    api_argv = compose_command("api", tmp_path)
    api_argv[api_argv.index("--port") + 1] = str(port)
    api_argv[api_argv.index("--host") + 1] = "127.0.0.1"
    services = [
        Service("worker", compose_command("worker", tmp_path), env).start(),
        Service("beat", compose_command("beat", tmp_path), env).start(),
        Service("api", api_argv, env).start(),
    ]
    try:
        services[0].wait_for_output("ready.")
        services[1].wait_for_output("beat: Starting")
        deadline = time.monotonic() + 60
        while True:
            try:
                resp = httpx.get(
                    f"http://127.0.0.1:{port}/healthz",
                    headers={"Authorization": "Bearer t"},  # the details need the token
                    timeout=2,
                )
                if resp.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, services[2].output()
            time.sleep(0.3)
        assert resp.json()["workers"] >= 1
    finally:
        for service in services:
            service.stop()


def test_run_example_prints_the_alerts_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    env.update(ALERTS_API_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alerts", "run", "--example"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        wanted = (
            "Drones target a fuel depot in the Kaluga region",
            "Negotiators in Geneva discuss",
        )
        while not all(w in log.read_text(errors="replace") for w in wanted):
            assert proc.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
        assert "embedded Redis" in log.read_text()
        worker = next(c for c in psutil.Process(proc.pid).children() if "worker" in c.cmdline())
        worker.kill()  # a child that dies is restarted, not the end of the service
        while "[run] worker exited" not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline + 30, log.read_text(errors="replace")
            time.sleep(0.3)
        assert proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        code = proc.wait(60)
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "[run] stopped" in text
    assert "Danube ports" not in text  # the unrelated item raises no alert
