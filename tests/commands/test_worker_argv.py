"""`alerts worker` execs solo Celery workers under a supervisor (or, asked, one prefork worker),
with our queue and without the events nobody reads."""

from __future__ import annotations

import sys

import pytest

from alerts.commands import main


def _argv(monkeypatch, tmp_path, *args: str) -> list[str]:
    seen: list[list[str]] = []
    monkeypatch.setattr(main.os, "execv", lambda exe, argv: seen.append(argv))
    monkeypatch.setenv("ALERTS_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["alerts", "worker", *args])
    try:
        main.main()
    except SystemExit as exc:  # main exits with what the exec returned
        assert not exc.code
    (argv,) = seen
    return argv


def test_the_worker_runs_solo_workers_under_the_supervisor(monkeypatch, tmp_path) -> None:
    argv = _argv(monkeypatch, tmp_path, "--concurrency", "3", "--name", "w@h")
    head, child = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    assert head[1:] == ["-m", "workers.supervisor", "--processes", "3", "--name", "w@h"]
    assert child[child.index("worker") :][:3] == ["worker", "--loglevel", "INFO"]
    assert child[child.index("--pool") + 1] == "solo"
    assert child[child.index("--concurrency") + 1] == "1"
    for flag in (*main.WORKER_QUIET, "-Q"):
        assert flag in child
    assert "-n" not in child  # the supervisor names each child


def test_the_worker_runs_prefork_when_asked(monkeypatch, tmp_path) -> None:
    argv = _argv(monkeypatch, tmp_path, "--concurrency", "1", "--pool", "prefork")
    assert argv[argv.index("worker") :][:3] == ["worker", "--loglevel", "INFO"]
    for flag in ("--without-gossip", "--without-mingle", "--without-heartbeat", "-Q"):
        assert flag in argv
    assert argv[argv.index("--concurrency") + 1] == "1"
    assert "--pool" not in argv and "workers.supervisor" not in argv


def test_the_pool_setting_picks_prefork(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ALERTS_WORKER__POOL", "prefork")
    assert "workers.supervisor" not in _argv(monkeypatch, tmp_path)


@pytest.mark.parametrize("flag", main.WORKER_QUIET)
def test_celery_knows_each_flag(flag: str) -> None:
    from celery.bin.worker import worker

    assert any(flag in p.opts for p in worker.params)


@pytest.mark.parametrize(
    "broker", ["sentinel://127.0.0.1:26379/0", "amqp://guest:guest@127.0.0.1:5672//"]
)
def test_a_broker_other_than_redis_keeps_prefork(monkeypatch, tmp_path, broker: str) -> None:
    monkeypatch.setenv("ALERTS_BROKER_URL", broker)
    monkeypatch.setenv("ALERTS_SENTINEL_MASTER", "mymaster")
    argv = _argv(monkeypatch, tmp_path)
    assert "workers.supervisor" not in argv and "--concurrency" in argv
