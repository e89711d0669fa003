"""Architecture and packaging checks: the core never imports Celery; compose and Docker agree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_core_never_imports_celery() -> None:
    code = (
        "import pkgutil, importlib, sys, alerts\n"
        "for m in pkgutil.walk_packages(alerts.__path__, 'alerts.'):\n"
        "    if m.name != 'alerts.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('celery', 'workers'))\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=False)
    assert proc.returncode == 0, proc.stdout.decode() + proc.stderr.decode()


def test_compose_file_runs_redis_with_aof_and_the_three_processes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"redis", "worker", "beat", "api"}
    assert "--appendonly" in services["redis"]["command"]
    assert (
        services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1]
        == "yes"
    )
    for name in ("worker", "beat", "api"):
        svc = services[name]
        assert svc["command"][:2] == ["alerts", name]
        assert "./rules:/app/rules:ro" in svc["volumes"]
        assert svc["env_file"] == ".env"
        assert svc["environment"]["ALERTS_REDIS_URL"].startswith("redis://redis:")


def test_dockerfile_installs_the_package_and_runs_the_api() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in text
    assert 'CMD ["alerts", "api"' in text
    assert "USER alerts" in text


def test_example_settings_are_valid() -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SMTP_USER": "u",
        "SMTP_PASSWORD": "p",
        "SLACK_TOKEN_A": "a",
        "SLACK_TOKEN_B": "b",
        "SLACK_TOKEN_C": "c",
    }
    for config in ("alerts.example.yaml", "examples/alerts.yaml"):
        code = "from alerts.settings import load_settings; load_settings()"
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            env={**env, "ALERTS_CONFIG": config},
            check=False,
        )
        assert proc.returncode == 0, config + proc.stderr.decode()
