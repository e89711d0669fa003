"""``alerts worker`` on the solo pool: solo workers under ``workers/supervisor.py``.

A child killed mid-task has its message requeued at once (not after the visibility timeout)
and is started again; the supervisor passes stop signals on and exits when its children have.
"""

from __future__ import annotations

import signal
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest
import redis
from celery import Celery

from alerts.commands.main import solo_workers_argv
from alerts.matching.shards import QUEUE
from tests.support.processes import Service, service_env, write_config
from tests.support.redis_server import RedisServer
from workers import inflight
from workers.supervisor import Supervisor, child_name

ROOT = Path(__file__).resolve().parents[2]


def test_children_are_named_after_the_worker() -> None:
    assert child_name("alerts@%h", 1) == "alerts-1@%h"
    assert child_name("w1@host.example", 2) == "w1-2@host.example"
    assert child_name("plain", 3) == "plain-3"


def test_the_inflight_file_holds_what_is_unacked(tmp_path: Path) -> None:
    path = tmp_path / "inflight"
    held = inflight.Inflight(path)
    tags = [str(uuid.uuid4()) for _ in range(3)]
    for tag in tags:
        held.add(tag)
    held.discard(tags[1])
    assert inflight.held(path) == [tags[0], tags[2]]
    held.add(tags[1])  # a freed slot is used again
    assert sorted(inflight.held(path)) == sorted(tags)
    held.clear()
    assert inflight.held(path) == []
    assert inflight.held(tmp_path / "missing") == []


def test_the_inflight_file_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "inflight"
    held = inflight.Inflight(path)
    for n in range(inflight.SLOTS + 4):
        held.add(f"tag-{n}")
    held.add("x" * inflight.WIDTH)  # too long: left to the visibility timeout
    assert inflight.held(path) == [f"tag-{n}" for n in range(inflight.SLOTS)]
    assert path.stat().st_size == inflight.SLOTS * inflight.WIDTH
    inflight.Inflight(path)  # a new process starts with a clean file
    assert inflight.held(path) == []


def _supervisor(tmp_path: Path, redis_url: str, processes: int = 2) -> Service:
    config = write_config(tmp_path, rules_dir=str(ROOT / "rules"))
    env = service_env(config, redis_url)
    celery = [sys.executable, "-m", "celery", "-A", "tests.workers.hold_app", "worker"]
    argv = solo_workers_argv([*celery, "--loglevel", "INFO"], processes, "hold@%h", QUEUE)
    service = Service("supervisor", argv, env).start()
    service.wait_for_output(" ready.", count=processes)
    return service


def _wait(check, timeout: float, what: str, service: Service) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}:\n{service.output()}"
        time.sleep(0.1)


def test_a_child_killed_mid_task_has_its_task_requeued_at_once(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis
) -> None:
    service = _supervisor(tmp_path, redis_url)
    try:
        assert service.proc is not None
        supervisor = psutil.Process(service.proc.pid)
        app = Celery("client", broker=redis_url)
        # The start-up tasks done: each child waits in BRPOP, whose message's unacked record
        # the channel writes itself (the pop script, used on a backlog, records in Redis).
        drained = lambda: not redis_client.llen("alerts") and not redis_client.hlen("unacked")  # noqa: E731
        _wait(drained, 30, "the start-up tasks never finished", service)
        time.sleep(0.5)
        app.send_task("tests.hold", args=["k1"], queue="alerts")
        _wait(lambda: redis_client.llen("hold:k1") == 1, 30, "the task never started", service)
        victim = int(redis_client.lindex("hold:k1", 0))
        assert victim in {c.pid for c in supervisor.children()}
        # Solo: the message is recorded as unacked before its task runs (record_at_once).
        assert any(b"tests.hold" in value for value in redis_client.hvals("unacked"))
        psutil.Process(victim).send_signal(signal.SIGKILL)
        # Run again well within the visibility timeout (900 s), by a live child, as redelivered.
        _wait(lambda: redis_client.llen("hold:k1") == 2, 30, "never run again", service)
        assert int(redis_client.lindex("hold:k1", 1)) != victim
        assert redis_client.get("hold:k1:redelivered") == b"True"
        _wait(lambda: not redis_client.hlen("unacked"), 10, "the rerun was never acked", service)
        # The dead child is started again: two live children.
        _wait(lambda: len(supervisor.children()) == 2, 30, "no restart", service)
        assert "died (SIGKILL) holding 1 task message(s)" in service.output()
        assert "1 task message(s) of dead workers requeued" in service.output()
        app.close()
    finally:
        service.stop()
    assert service.final is not None and "Warm shutdown" in service.final


def test_a_stop_signal_ends_the_children_and_the_supervisor(tmp_path: Path, redis_url: str) -> None:
    service = _supervisor(tmp_path, redis_url, processes=1)
    assert service.proc is not None
    children = psutil.Process(service.proc.pid).children()
    service.proc.send_signal(signal.SIGTERM)  # the supervisor only: it passes it on
    assert service.proc.wait(30) == 0
    assert psutil.wait_procs(children, timeout=10)[1] == []
    service.stop()


def test_the_children_stop_when_the_supervisor_is_killed(tmp_path: Path, redis_url: str) -> None:
    service = _supervisor(tmp_path, redis_url, processes=2)
    try:
        assert service.proc is not None
        children = psutil.Process(service.proc.pid).children()
        service.proc.send_signal(signal.SIGKILL)  # no parent left to requeue: they stop warmly
        assert psutil.wait_procs(children, timeout=30)[1] == []
    finally:
        service.stop()
    assert (service.final or "").count("Warm shutdown") >= 2


def test_a_hangup_restarts_the_children_warmly(tmp_path: Path, redis_url: str) -> None:
    service = _supervisor(tmp_path, redis_url, processes=1)
    try:
        assert service.proc is not None
        supervisor = psutil.Process(service.proc.pid)
        (before,) = supervisor.children()
        supervisor.send_signal(signal.SIGHUP)
        _wait(lambda: service.output().count(" ready.") == 2, 60, "no restart", service)
        assert [c.pid for c in supervisor.children()] != [before.pid]
        assert not before.is_running()
        assert service.proc.poll() is None
    finally:
        service.stop()


def test_a_child_that_keeps_failing_is_restarted_with_a_back_off(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    crash = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"
    argv = [sys.executable, "-m", "workers.supervisor", "--processes", "1", "--name", "c@h"]
    service = Service("crashing", [*argv, "--", sys.executable, "-c", crash], {}).start()
    try:
        time.sleep(4.0)  # at once, then after 1 s and 2 s: not a spin
        assert service.proc is not None and service.proc.poll() is None
        assert 2 <= len(starts.read_text()) <= 4, service.output()
        service.proc.send_signal(signal.SIGTERM)
        assert service.proc.wait(10) == 0  # a stop is not held up by the back-off
    finally:
        service.stop()
    assert "died (exit 3)" in (service.final or "")


@pytest.mark.parametrize("bad", [["--processes", "0", "--name", "x", "--", "true"], []])
def test_bad_arguments_are_refused(bad: list[str]) -> None:
    from workers.supervisor import main

    with pytest.raises(SystemExit) as exc:
        main(bad)
    assert exc.value.code == 2


def test_a_failed_requeue_is_kept_and_tried_again(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def requeue(tags: list[str]) -> int:
        calls.append(tags)
        if len(calls) == 1:
            raise ConnectionError("redis down")
        return len(tags)

    sup = Supervisor(1, "r@h", ["true"], requeue=requeue, folder=tmp_path)
    (child,) = sup.children
    inflight.Inflight(child.file).add("tag-1")
    sup.reap(child, -signal.SIGKILL)  # never raises
    assert sup.unrequeued == ["tag-1"] and sup._requeue_due > time.monotonic()
    inflight.Inflight(child.file)  # the restarted child starts its file afresh: kept here
    sup.requeue_pending()  # not due yet
    assert len(calls) == 1
    sup._requeue_due = 0.0
    sup.requeue_pending()
    assert calls == [["tag-1"], ["tag-1"]] and sup.unrequeued == []


def test_a_child_started_during_a_stop_is_stopped_too(tmp_path: Path) -> None:
    sup = Supervisor(
        1, "s@h", [sys.executable, "-c", "import time; time.sleep(30)"], folder=tmp_path
    )
    sup.stopping = signal.SIGTERM
    (child,) = sup.children
    sup.start(child)
    assert child.proc is not None
    assert child.proc.wait(10) == -signal.SIGTERM


def test_busy_counts_task_messages_taken_lately(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis
) -> None:
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)  # workers.api builds the Celery app
    from workers.api import BUSY_SECONDS, UNACKED_INDEX, _busy

    now = time.time()
    redis_client.zadd(UNACKED_INDEX, {"old": now - BUSY_SECONDS - 5, "new": now - 1})
    assert _busy(redis_client) == 1


def test_busy_is_counted_on_the_brokers_redis(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_client: redis.Redis
) -> None:
    """The held messages are indexed where the broker is: our stores' Redis, another Redis
    (``broker_url``: a server of its own here), or nowhere to count (RabbitMQ, Sentinel:
    prefork workers answer pings)."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)  # workers.api builds the Celery app
    from alerts.settings import load_settings
    from workers.api import UNACKED_INDEX, _busy, _busy_client

    same = _busy_client(load_settings(redis_url=redis_url), redis_client)
    assert same is redis_client
    server = RedisServer().start()
    try:
        redis.Redis.from_url(server.url).zadd(UNACKED_INDEX, {"held": time.time()})
        settings = load_settings(redis_url=redis_url, broker_url=server.url)
        apart = _busy_client(settings, redis_client)
        assert apart is not None and _busy(apart) == 1
    finally:
        server.stop()
    for url in ("amqp://guest@127.0.0.1:5672//", "sentinel://127.0.0.1:26379/0"):
        settings = load_settings(redis_url=redis_url, broker_url=url, sentinel_master="m")
        assert _busy_client(settings, redis_client) is None
    assert _busy(None) == 0
