"""A worker rides out Redis restarts on its own: no "Unrecoverable error", no supervisor.

On a broker drop Celery's consumer calls ``Connection.collect()`` (which detaches the
transport) and then ``close()``; closing the channel restores unacked messages through a new
Redis pool built from the detached transport: ``AttributeError: 'NoneType' object has no
attribute 'hostname'``, and the worker exited (workers/redis_transport.py has the whole story).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import redis
from celery import Celery
from kombu import Connection, Exchange, Queue

from tests.support.processes import service_env, start_worker, write_config
from tests.support.redis_server import RedisServer
from workers.redis_transport import transport_for

RESTARTS = 10


def test_closing_a_detached_connection_with_unacked_messages_does_not_raise(
    redis_url: str, redis_client: redis.Redis
) -> None:
    conn = Connection(redis_url, transport=transport_for(redis_url))
    try:
        channel = conn.default_channel
        queue = Queue("drop-test", Exchange("drop-test"), "k", channel=channel)
        queue.declare()
        conn.Producer(channel).publish({"n": 1}, exchange="drop-test", routing_key="k")
        assert queue.get(no_ack=False) is not None  # one unacked message in the channel's QoS
        conn._do_close_transport()  # where Connection.collect() leaves it after a broker drop
        conn.close()  # raised AttributeError ('hostname') with kombu's own transport
    finally:
        conn.release()
    assert redis_client.hlen("unacked") == 1  # kept in Redis for the next restore sweep


def _feed(app: Celery, stop: threading.Event) -> None:
    n = 0
    while not stop.is_set():
        try:
            app.send_task("alerts.ping", args=[f"feed-{n}"])
            n += 1
        except Exception:  # the broker is down for a moment: try again
            time.sleep(0.2)
        time.sleep(0.01)


def test_a_worker_rides_out_redis_restarts_without_a_supervisor(tmp_path: Path) -> None:
    server = RedisServer(appendonly=True).start()
    config = write_config(tmp_path, rules_dir="rules", worker={"restore_interval": 1})
    worker = start_worker(service_env(config, server.url), name="drop", concurrency=2)
    app = Celery("drop", broker=server.url)
    app.conf.update(task_default_queue="alerts", task_serializer="json")
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(app, stop), daemon=True)
    feeder.start()
    try:
        for _ in range(RESTARTS):
            time.sleep(1.5)  # tasks flowing, some unacked, when Redis goes
            server.stop(kill=True)
            time.sleep(0.5)
            server.start()
            assert worker.proc is not None and worker.proc.poll() is None, worker.output()
        stop.set()
        feeder.join(10)
        app.send_task("alerts.ping", args=["after"])
        client = redis.Redis.from_url(server.url)
        deadline = time.monotonic() + 60
        while not client.exists("alerts:ping:after"):
            assert time.monotonic() < deadline, worker.output()[-5000:]
            assert worker.proc.poll() is None, worker.output()[-5000:]
            time.sleep(0.2)
    finally:
        stop.set()
        worker.stop()
        app.close()
        server.stop(kill=True)
    assert "Unrecoverable error" not in worker.output()
