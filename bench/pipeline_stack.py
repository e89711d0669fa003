"""The service under ``bench/pipeline.py``: Redis, the sink, API and workers; CPU per process."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import redis

from alerts.matching.shards import QUEUE
from bench.pipeline_sink import SinkProcess
from tests.support.processes import Service, service_env, start_api, start_worker, write_config
from tests.support.redis_server import RedisServer, free_port

TOKEN = "bench-token-not-a-secret"
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
            "workers": sum(_tree_cpu(w.proc.pid) for w in self.workers if w.proc),
            "api": _tree_cpu(self.api.proc.pid) if self.api.proc else 0.0,
            "redis": _tree_cpu(self.redis_server.proc.pid) if self.redis_server.proc else 0.0,
        }

    def drained(self) -> bool:
        """No task queued or unacknowledged."""
        r = self.redis
        return not r.llen("alerts") and not r.hlen("unacked")

    def commands(self) -> dict[str, int]:
        """Redis commands served so far, by command (INFO commandstats)."""
        stats = self.redis.info("commandstats")
        return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}

    def memory(self) -> int:
        """Redis ``used_memory`` in bytes."""
        return int(self.redis.info("memory")["used_memory"])


def _tree_cpu(pid: int) -> float:
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
def running(tmp: Path, rules_dir: Path, languages: Sequence[str] = ()) -> Iterator[Stack]:
    """Redis, the sink and the API (workers come and go with ``workers``); all stopped after.

    ``languages``: the items' languages, whose matcher views the workers build at load."""
    server = RedisServer().start()
    sink = SinkProcess().start()
    api: Service | None = None
    try:
        config = write_config(
            tmp,
            rules_dir=str(rules_dir),
            api_token=TOKEN,
            channels={"slack": SLACK_URL},
            # Pacing (1 message/s per channel by default) would make this a pacing benchmark.
            delivery={"paced_channels": []},
            worker={"item_languages": list(languages)},
        )
        env = service_env(config, server.url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=sink.webhook_base)
        port = free_port()
        api = start_api(env, port)
        yield Stack(server, sink, env, f"http://127.0.0.1:{port}", api)
    finally:
        if api is not None:
            api.stop()
        sink.stop()
        server.close()


@contextmanager
def workers(stack: Stack, count: int, concurrency: int, pool: str = "prefork") -> Iterator[None]:
    """``count`` more worker processes for the duration of the block (``pool``: Celery's)."""
    started = []
    try:
        for _ in range(count):
            name = f"b{len(stack.workers)}"
            if pool == "prefork":
                started.append(start_worker(stack.env, name=name, concurrency=concurrency))
            else:
                started.append(_celery_worker(stack.env, name, concurrency, pool))
            stack.workers.append(started[-1])
        yield
    finally:
        for service in started:
            service.stop()
            stack.workers.remove(service)


def _celery_worker(env: dict[str, str], name: str, concurrency: int, pool: str) -> Service:
    """A worker on another Celery pool (``alerts worker`` always runs prefork)."""
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", "worker", "--pool", pool]
    argv += ["--concurrency", str(concurrency), "-n", f"{name}@%h", "-Q", QUEUE]
    service = Service(f"worker-{name}", argv, env).start()
    service.wait_for_output("ready.")
    return service


class Poster:
    """POSTs bulletins to the API from a small thread pool; remembers each item's POST start."""

    def __init__(self, api_url: str, threads: int = 8) -> None:
        self.url = f"{api_url}/v1/bulletins?source=bench"
        self.client = httpx.Client(
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            timeout=30,
            limits=httpx.Limits(max_connections=threads),
        )
        self.pool = ThreadPoolExecutor(threads)
        self.started: dict[int, float] = {}
        self.failures: list[str] = []

    def post(self, items: list[dict[str, Any]]) -> None:
        """Queue one bulletin holding ``items``."""
        self.pool.submit(self._post, items)

    def _post(self, items: list[dict[str, Any]]) -> None:
        start = time.monotonic()
        for it in items:
            self.started[int(it["id"][2:])] = start
        try:
            resp = self.client.post(self.url, content=json.dumps({"items": items}))
            if resp.status_code != 202:
                self.failures.append(f"{resp.status_code} {resp.text[:200]}")
        except httpx.HTTPError as exc:
            self.failures.append(repr(exc))

    def close(self) -> None:
        """Wait for every POST, then close the client."""
        self.pool.shutdown(wait=True)
        self.client.close()


def wait_for(predicate: Callable[[], bool], timeout: float, poll: float = 0.05) -> bool:
    """Poll until ``predicate`` holds; False on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True
