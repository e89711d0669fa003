"""Each compose service's command starts as a local process; `alerts run --example` shows alerts."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import yaml

from tests.support.processes import ROOT, Service
from tests.support.redis_server import free_port

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # `<<` merges resolved
APP_SERVICES = ("worker", "beat", "api")


class Project:
    """A compose project as local folders: the image's /app is ``root``, holding what the
    compose file mounts (rules, alerts.yaml copied from the example, the inbox)."""

    def __init__(self, root: Path, redis_url: str, port: int) -> None:
        self.root, self.redis_url, self.port = root, redis_url, port
        shutil.copytree(ROOT / "rules", root / "rules")
        shutil.copy(ROOT / "alerts.example.yaml", root / "alerts.yaml")
        for volume in COMPOSE["x-alerts"]["volumes"]:  # docker creates missing host folders
            host = root / volume.split(":")[0]
            if not host.exists():
                host.mkdir(parents=True)
        (root / "var").mkdir()  # the Dockerfile makes /app/var

    def local(self, text: str) -> str:
        """A string of the compose file with the container's paths and ports made local."""
        text = text.replace("/app/", f"{self.root}/").replace("$$", "$")
        return text.replace("0.0.0.0", "127.0.0.1").replace("8080", str(self.port))

    def env(self, service: str) -> dict[str, str]:
        """The service's environment: env_file (.env.example), then `environment:`."""
        spec = COMPOSE["services"][service]
        env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
        env.update(dotenv_values(ROOT / ".env.example"))
        env.update({k: self.local(str(v)) for k, v in spec["environment"].items()})
        env["ALERTS_REDIS_URL"] = self.redis_url  # the compose `redis` service is the test's
        env.update(PYTHONUNBUFFERED="1", HOSTNAME=socket.gethostname())  # docker sets HOSTNAME
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def command(self, service: str) -> list[str]:
        """The service's command, run by this virtualenv's ``alerts``."""
        argv = [self.local(a) for a in COMPOSE["services"][service]["command"]]
        assert argv[0] == "alerts"
        return [sys.executable, "-m", "alerts", *argv[1:]]

    def healthcheck(self, service: str) -> subprocess.CompletedProcess[bytes]:
        """Run the service's healthcheck here, as docker would inside its container."""
        kind, *test = COMPOSE["services"][service]["healthcheck"]["test"]
        argv = ["sh", "-c", self.local(test[0])] if kind == "CMD-SHELL" else map(self.local, test)
        return subprocess.run(
            list(argv), env=self.env(service), cwd=self.root, capture_output=True, timeout=60
        )


def dotenv_values(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as compose reads an env_file (comments and blanks skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = [ln.split("=", 1) for ln in lines if ln.strip() and not ln.startswith("#")]
    return {key.strip(): value.strip() for key, value in pairs}


def test_compose_file_builds_once_per_service_and_checks_health() -> None:
    for name in APP_SERVICES:
        spec = COMPOSE["services"][name]
        assert "build" in spec and "image" not in spec, name  # build: and image: disagreed
    assert {"redis", "worker", "api"} <= {
        n for n, s in COMPOSE["services"].items() if "healthcheck" in s
    }
    sources = yaml.safe_load((ROOT / "alerts.example.yaml").read_text())["sources"]
    assert not any("example.org" in (s.get("url") or "") for s in sources)


def test_compose_services_start_locally_with_the_compose_environment(
    tmp_path: Path, redis_url: str, redis_client
) -> None:  # type: ignore[no-untyped-def]
    project = Project(tmp_path / "app", redis_url, free_port())
    services = [
        Service(name, project.command(name), project.env(name), cwd=project.root).start()
        for name in APP_SERVICES
    ]
    try:
        services[0].wait_for_output("ready.")
        deadline = time.monotonic() + 60
        while (check := project.healthcheck("api")).returncode != 0:
            assert time.monotonic() < deadline, check.stderr.decode() + services[2].output()
            time.sleep(1)
        check = project.healthcheck("worker")
        assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
        # The example's inbox source reads the mounted ./inbox: a file dropped there is ingested.
        (project.root / "inbox" / "bulletin.txt").write_bytes(
            (ROOT / "examples/bulletin.txt").read_bytes()
        )
        processed = project.root / "inbox" / "processed"
        while not (processed.exists() and any(processed.iterdir())):
            assert time.monotonic() < deadline + 60, services[0].output()
            time.sleep(0.5)
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
