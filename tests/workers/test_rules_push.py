"""One rule set across hosts: ``alerts rules push`` publishes; workers run it and say so."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import redis

from alerts.matching.published import PUBLISHED_KEY
from tests.chaos.harness import write_rules
from tests.chaos.test_chaos import TOKEN
from tests.support.ha import ha_run
from tests.support.processes import ROOT, service_env, write_config

AUTH = {"Authorization": f"Bearer {TOKEN}"}  # /healthz details need the token

pytestmark = pytest.mark.timeout(300)


def alerts(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``alerts`` command with this environment."""
    argv = [sys.executable, "-m", "alerts", *args]
    return subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_broken_rules_dir_is_refused_and_nothing_is_published(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "w.yaml").write_text("id: w\nname: W\nany: [x]\nterm: y\n")
    env = service_env(write_config(tmp_path), redis_url)
    done = alerts(env, "rules", "push", str(bad))
    assert done.returncode == 1
    assert f"{bad / 'w.yaml'}:4:1: unknown key 'term'" in done.stderr
    assert not redis_client.exists(PUBLISHED_KEY)


def healthz_versions(api: str) -> dict[str, str]:
    """Each worker process's rules version as /healthz reports it."""
    report = httpx.get(f"{api}/healthz", headers=AUTH, timeout=10).json()["rules_by_worker"]
    return {name: w["version"] for name, w in report["workers"].items()}


def test_workers_run_the_pushed_set_and_report_its_version(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    rules = write_rules(tmp_path / "pushed")
    workers = {"w1": (), "w2": ()}  # two "hosts": neither reads a local rules directory
    with ha_run(tmp_path, redis_url, 30, workers, rules_from="redis") as run:
        pushed = alerts(run.env, "rules", "push", str(rules))
        assert pushed.returncode == 0, pushed.stderr
        version = pushed.stdout.split("version ")[1].rstrip(")\n")
        run.feed(rate=5.0).join()
        run.wait_delivered(timeout=120)
        assert run.counts(redis_client)["lost"] == 0
        seen = healthz_versions(run.api)
        assert seen and set(seen.values()) == {version}, seen

        extra = "id: extra\nname: Extra\nany: [zzz]\nnotify:\n  channels: [email]\n"
        (rules / "extra.yaml").write_text(extra)
        again = alerts(run.env, "rules", "push", str(rules))
        assert again.returncode == 0, again.stderr
        newer = again.stdout.split("version ")[1].rstrip(")\n")
        assert newer != version
        deadline = time.monotonic() + 60
        while set(healthz_versions(run.api).values()) != {newer}:
            assert time.monotonic() < deadline, healthz_versions(run.api)
            time.sleep(1)
        report = alerts(run.env, "rules", "versions")
        assert report.returncode == 0 and f"published: {newer}" in report.stdout, report.stdout
