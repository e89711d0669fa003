"""Fixtures for hostile-input tests: the naughty strings corpus and a marker file."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from tests.support.processes import Service, service_env, start_worker, write_config
from tests.support.slack import SlackTestServer

ROOT = Path(__file__).resolve().parents[2]
BLNS = ROOT.parent / "shared" / "corpora" / "naughty-strings" / "blns.json"
# How every rule error prints: ``path:line:col: message``.
RULE_ERROR = re.compile(r"^(?P<path>[^\n]+?):(?P<line>\d+):(?P<col>\d+): (?P<message>\S[^\n]*)$")


@pytest.fixture(scope="session")
def naughty() -> list[str]:
    """The Big List of Naughty Strings; skips when ../shared is absent."""
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings/blns.json is not present")
    strings = json.loads(BLNS.read_text(encoding="utf-8"))
    return [s for s in strings if isinstance(s, str)]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    """A file that a successful code-execution payload would create."""
    return tmp_path / "PWNED"


KALUGA = "id: kaluga\nany: [Kaluga]\nnotify: {channels: [slack]}\n"
SLACK = "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@contextlib.contextmanager
def kaluga_worker(
    tmp_path: Path, redis_url: str, name: str, **settings: object
) -> Iterator[tuple[Path, SlackTestServer, Service, Celery]]:
    """A real worker with one watch (Kaluga -> Slack test server), and a Celery app to feed it."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kaluga.yaml").write_text(KALUGA, encoding="utf-8")
    with SlackTestServer() as slack:
        config = write_config(tmp_path, rules_dir=str(rules), channels={"slack": SLACK}, **settings)
        env = service_env(config, redis_url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=slack.webhook_base)
        worker = start_worker(env, name=name, concurrency=1)
        app = Celery(name, broker=redis_url)
        app.conf.update(task_default_queue="alerts", task_serializer="json")
        try:
            yield rules, slack, worker, app
        finally:
            worker.stop()
            app.close()


def alerts_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``alerts ARGS`` in a subprocess, bounded by a timeout (fails rather than hangs)."""
    return subprocess.run(
        [sys.executable, "-m", "alerts", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
