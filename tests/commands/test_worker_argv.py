"""`alerts worker` execs Celery's worker with our queue and without the events nobody reads."""

from __future__ import annotations

import sys

import pytest

from alerts.commands import main


def test_the_worker_runs_without_gossip_mingle_and_heartbeat(monkeypatch, tmp_path) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(main.os, "execv", lambda exe, argv: seen.append(argv))
    monkeypatch.setenv("ALERTS_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["alerts", "worker", "--concurrency", "1"])
    try:
        main.main()
    except SystemExit as exc:  # main exits with what the exec returned
        assert not exc.code
    (argv,) = seen
    assert argv[argv.index("worker") :][:3] == ["worker", "--loglevel", "INFO"]
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat", "-Q"):
        assert flag in argv
    assert argv[argv.index("--concurrency") + 1] == "1"


@pytest.mark.parametrize("flag", main.WORKER_QUIET)
def test_celery_knows_each_flag(flag: str) -> None:
    from celery.bin.worker import worker

    assert any(flag in p.opts for p in worker.params)
