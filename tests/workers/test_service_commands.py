"""Each compose service's command starts as a local process; `alerts run --example` shows alerts."""

from __future__ import annotations

import os
import shutil
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
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
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


def start_run(tmp_path: Path, cwd: Path) -> tuple[subprocess.Popen[bytes], Path]:
    """`alerts run --example` as a new user starts it: no ALERTS_* variables, its own terminal
    session (so a signal to its process group is what closing the terminal sends)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    env.update(ALERTS_API_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    for name in ("SMTP_USER", "SMTP_PASSWORD", "SLACK_TOKEN_A"):
        env.pop(name, None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alerts", "run", "--example"],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc, log


def wait_for(proc: subprocess.Popen[bytes], log: Path, *wanted: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while not all(w in (text := log.read_text(errors="replace")) for w in wanted):
        assert proc.poll() is None, text
        assert time.monotonic() < deadline, text
        time.sleep(0.3)
    return text


def demo_dir(text: str) -> Path:
    """The demo's temporary folder, from the line that names the embedded Redis's data."""
    line = next(ln for ln in text.splitlines() if "embedded Redis" in ln)
    return Path(line.split("data in ")[1].strip()).parent


def assert_all_gone(procs: list[psutil.Process], folder: Path) -> None:
    _, alive = psutil.wait_procs(procs, timeout=40)
    assert alive == [], [p.cmdline() for p in alive]
    assert not folder.exists()


ALERT_TITLES = (
    "Drones target a fuel depot in the Kaluga region",
    "Negotiators in Geneva discuss",
)


def test_run_example_shows_the_alerts_even_with_an_alerts_yaml_and_a_hangup_stops_all(
    tmp_path: Path,
) -> None:
    # The README's "Using it" step first: an alerts.yaml whose secrets are not set.
    cwd = tmp_path / "work"
    cwd.mkdir()
    shutil.copy(ROOT / "alerts.example.yaml", cwd / "alerts.yaml")
    proc, log = start_run(tmp_path, cwd)
    try:
        text = wait_for(proc, log, *ALERT_TITLES, "API token for this session: ")
        children = psutil.Process(proc.pid).children(recursive=True)
        worker = next(c for c in children if "worker" in c.cmdline())
        pool = worker.children()
        worker.kill()  # a child that dies is restarted, not the end of the service
        wait_for(proc, log, "[run] worker exited")
        assert proc.poll() is None
        assert psutil.wait_procs(pool, timeout=10)[1] == []  # its pool went with it
        deadline = time.monotonic() + 60
        # watchdog, Redis, the new worker and its pool, beat, API
        while len(children := psutil.Process(proc.pid).children(recursive=True)) < 7:
            assert time.monotonic() < deadline, [c.cmdline() for c in children]
            time.sleep(0.3)
    finally:
        os.killpg(proc.pid, signal.SIGHUP)  # what closing the terminal sends
        code = proc.wait(60)
    text = log.read_text(errors="replace")
    assert code == 0, text
    assert "[run] stopped" in text
    assert_all_gone(children, demo_dir(text))
    assert not (cwd / "var").exists()  # the demo keeps its state in the deleted folder
    assert "Danube ports" not in text  # the unrelated item raises no alert
    # Quiet: the alerts on their own (not as log records), no INFO lines, dated, as written.
    assert "ForkPoolWorker" not in text and "INFO" not in text and "superuser" not in text
    assert "time unknown" not in text
    assert "Terms: Kaluga" in text


def test_run_killed_outright_leaves_no_process_and_no_folder(tmp_path: Path) -> None:
    proc, log = start_run(tmp_path, ROOT)
    try:
        text = wait_for(proc, log, "[run] ready")
        children = psutil.Process(proc.pid).children(recursive=True)
    finally:
        proc.kill()  # SIGKILL: no handler runs; the watchdog must clean up
        proc.wait(10)
    assert_all_gone(children, demo_dir(text))
