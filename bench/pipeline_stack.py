"""The service under ``bench/pipeline.py``: Redis, the sink, API and workers; CPU per process."""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import redis

from alerts.commands.main import WORKER_QUIET, solo_workers_argv
from alerts.matching.shards import QUEUE
from bench.api_post import wait_listening
from bench.pipeline_load import make_watches, write_rules
from bench.pipeline_sink import SinkProcess
from tests.support.processes import Service, service_env, start_api, start_worker, write_config
from tests.support.redis_server import RedisServer, free_port

TOKEN = "bench-token-not-a-secret"
FLOOR_SINK_ENV = "FLOOR_SINK"  # the floor worker's sink URL (``bench/pipeline_floor.py``)
SLACK_URL = "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"


@dataclass
class Stack:
    """The running service: Redis, sink, API, workers; CPU accounting per role."""

    redis_server: RedisServer
    sink: SinkProcess
    env: dict[str, str]
    api_url: str
    api: Service
    workers: list[Service] = field(default_factory=list)

    @property
    def redis(self) -> redis.Redis:
        """A client on the bench Redis."""
        return redis.Redis.from_url(self.redis_server.url)

    def cpu(self) -> dict[str, float]:
        """CPU seconds (user+system) so far: workers (with pool children), API, Redis."""
        return {
            "workers": sum(tree_cpu(w.proc.pid) for w in self.workers if w.proc),
            "api": tree_cpu(self.api.proc.pid) if self.api.proc else 0.0,
            "redis": tree_cpu(self.redis_server.proc.pid) if self.redis_server.proc else 0.0,
        }

    def drained(self) -> bool:
        """No task queued or unacknowledged."""
        r = self.redis
        return not r.llen(QUEUE) and not r.hlen("unacked")

    def commands(self) -> dict[str, int]:
        """Redis commands served so far, by command (INFO commandstats)."""
        stats = self.redis.info("commandstats")
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}

    def memory(self) -> int:
        """Redis ``used_memory`` in bytes."""
        return int(self.redis.info("memory")["used_memory"])


def tree_cpu(pid: int) -> float:
    """CPU seconds (user+system) of process ``pid`` and its children, reaped ones included."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


@contextmanager
def running(
    tmp: Path, rules_dir: Path, languages: Sequence[str] = (), *, linger_ms: float | None = None
) -> Iterator[Stack]:
    """Redis, the sink and the API (workers come and go with ``workers``); all stopped after.

    ``languages``: the items' languages, whose matcher views the workers build at load;
    ``linger_ms``: the API's ``api_publish_linger_ms`` (None: the service's default)."""
    with _redis_and_sink() as (server, sink):
        config = write_config(
            tmp,
            rules_dir=str(rules_dir),
            api_token=TOKEN,
            channels={"slack": SLACK_URL},
            # Pacing (1 message/s per channel by default) would make this a pacing benchmark.
            delivery={"paced_channels": []},
            worker={"item_languages": list(languages)},
            **({} if linger_ms is None else {"api_publish_linger_ms": linger_ms}),
        )
        env = service_env(config, server.url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=sink.webhook_base)
        port = free_port()
        api = start_api(env, port)
        try:
            yield Stack(server, sink, env, f"http://127.0.0.1:{port}", api)
        finally:
            api.stop()


@contextmanager
def floor_stack(tmp: Path, pool: str = "solo") -> Iterator[Stack]:
    """The floor (``bench/pipeline_floor.py``): a Redis and a sink of its own, its API and one
    worker of 2 processes started as ``alerts worker --pool POOL`` starts one; all stopped after.
    ``tmp``: a directory of its own (not the service's: its settings file and its one watch,
    the worker's start-up load, are written there)."""
    rules = tmp / "rules"
    write_rules(rules, make_watches(1, random.Random(0)))
    with _redis_and_sink() as (server, sink):
        config = write_config(tmp, rules_dir=str(rules), channels={"slack": SLACK_URL})
        env = service_env(config, server.url, **{FLOOR_SINK_ENV: sink.webhook_base})
        port = free_port()
        argv = [sys.executable, str(Path(__file__).with_name("pipeline_floor.py")), "--serve"]
        started = [Service("floor-api", [*argv, str(port)], env).start()]
        try:
            wait_listening(started[0], port)
            if pool == "prefork":
                worker = _celery_worker(
                    env, "floor", 2, pool, app="bench.pipeline_floor", quiet=True
                )
            else:
                worker = _solo_workers(env, "floor", 2, app="bench.pipeline_floor")
            started.append(worker)
            yield Stack(server, sink, env, f"http://127.0.0.1:{port}", started[0], started[1:])
        finally:
            for service in reversed(started):
                service.stop()


@contextmanager
def _redis_and_sink() -> Iterator[tuple[RedisServer, SinkProcess]]:
    """A private Redis and the sink process, stopped after."""
    server = RedisServer().start()
    try:
        sink = SinkProcess().start()
        try:
            yield server, sink
        finally:
            sink.stop()
    finally:
        server.close()


@contextmanager
def workers(stack: Stack, count: int, concurrency: int, pool: str = "solo") -> Iterator[None]:
    """``count`` more workers (``alerts worker --pool POOL``, of ``concurrency`` processes) for
    the duration of the block."""
    started = []
    try:
        for _ in range(count):
            name = f"b{len(stack.workers)}"
            args = ("--pool", pool)
            started.append(start_worker(stack.env, name=name, concurrency=concurrency, args=args))
            stack.workers.append(started[-1])
        yield
    finally:
        for service in started:
            service.stop()
            stack.workers.remove(service)


def _solo_workers(env: dict[str, str], name: str, processes: int, *, app: str) -> Service:
    """``processes`` solo workers of ``app`` under the supervisor, as ``alerts worker`` runs
    ``workers.app`` (``workers/supervisor.py``), once each is ready."""
    celery = [sys.executable, "-m", "celery", "-A", app, "worker", "--loglevel", "INFO"]
    argv = solo_workers_argv(celery, processes, f"{name}@%h", QUEUE)
    service = Service(f"worker-{name}", argv, env).start()
    try:
        service.wait_for_output(" ready.", 120, count=processes)
    except BaseException:
        service.stop()
        raise
    return service


def _celery_worker(
    env: dict[str, str],
    name: str,
    concurrency: int,
    pool: str,
    *,
    app: str = "workers.app",
    quiet: bool = False,
) -> Service:
    """A Celery worker of ``app`` on ``pool`` (``alerts worker --pool prefork`` runs one, on
    ``workers.app``); ``quiet``: with ``alerts worker``'s flags (no gossip, mingle, heartbeat)."""
    argv = [sys.executable, "-m", "celery", "-A", app, "worker", "--pool", pool]
    argv += ["--concurrency", str(concurrency), "-n", f"{name}@%h", "-Q", QUEUE]
    argv += [*WORKER_QUIET, "--loglevel", "INFO"] if quiet else []
    service = Service(f"worker-{name}", argv, env).start()
    try:
        service.wait_for_output("ready.")
    except BaseException:
        service.stop()
        raise
    return service


class Poster:
    """POSTs bulletins to the API from a small thread pool; remembers each item's POST start.

    Each thread keeps one ``http.client`` connection: the load generator shares the service's two
    cores. With httpx the bench's own CPU (poster and sink) was 1.41-1.48 ms per item, with
    http.client 0.92-0.97 (``--rates 100 --watches 2000``, alternated runs).
    """

    def __init__(self, api_url: str, threads: int = 8) -> None:
        parts = urlsplit(api_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = "/v1/bulletins?source=bench"
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        self.local = threading.local()
        self.connections: list[http.client.HTTPConnection] = []
        self.pool = ThreadPoolExecutor(threads)
        self.started: dict[int, float] = {}
        self.failures: list[str] = []

    def post(self, items: list[dict[str, Any]]) -> None:
        """Queue one bulletin holding ``items``."""
        self.pool.submit(self._post, items)

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connections.append(conn)
        return conn

    def _post(self, items: list[dict[str, Any]]) -> None:
        start = time.monotonic()
        for it in items:
            self.started[int(it["id"][2:])] = start
        body = json.dumps({"items": items})
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more, anew
            conn = self._connection()
            try:
                conn.request("POST", self.path, body=body, headers=self.headers)
                resp = conn.getresponse()
                text = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self.local.conn = None
                if attempt == 2:
                    self.failures.append(repr(exc))
                continue
            if resp.status != 202:
                self.failures.append(f"{resp.status} {text[:200]!r}")
            return

    def close(self) -> None:
        """Wait for every POST, then close the connections."""
        self.pool.shutdown(wait=True)
        for conn in self.connections:
            conn.close()


def wait_for(predicate: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    """Poll until ``predicate`` holds; False on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True
