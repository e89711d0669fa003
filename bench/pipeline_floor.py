"""The floor under ``bench/pipeline.py``'s figures: the same shape with none of the service's work.

A bare Starlette route under uvicorn (run as ``alerts api`` runs it) turns each POST into one
stock Celery task on a Redis of its own; a stock prefork worker (2 children, acks late, reject
on worker lost, no result backend, no gossip, mingle or heartbeat) runs it: one HTTP POST per
item to the same sink, on a kept-alive connection. No parsing into items, no de-duplication, no
intake record, no matching, no ledger, story, throttle or rendering: what uvicorn, Celery, Redis
and one HTTP send per item cost at a given rate on this machine, the issue's "one task per
alerting item is the floor". ``pipeline.py`` prints the service's CPU per item beside it.

At light load most of a process's CPU per item is waking up for it (a context switch, caches
cold after the other processes ran); this floor pays those wake-ups too, so the ratio says what
the service's own work adds.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import worker_ready

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_post import serve_baseline, wait_listening
from bench.pipeline_sink import SinkProcess
from bench.pipeline_stack import Stack
from tests.support.processes import Service
from tests.support.redis_server import RedisServer, free_port

QUEUE = "alerts"  # ``Stack.drained`` reads this list and kombu's ``unacked`` hash
BROKER_ENV, SINK_ENV = "FLOOR_BROKER", "FLOOR_SINK"

app = Celery("floor", broker=os.environ.get(BROKER_ENV, "redis://127.0.0.1:1/0"))
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_default_queue=QUEUE,
    worker_prefetch_multiplier=1,
    worker_hijack_root_logger=False,
)
_sink: http.client.HTTPConnection | None = None


@worker_ready.connect
def _ready(**_: Any) -> None:
    """Say so (the worker logs at warning: no line per task, as the service's worker)."""
    print("floor worker ready", flush=True)


@app.task(name="floor.send")
def send(items: list[dict[str, Any]]) -> None:
    """POST each item's title to the sink, as one Slack message each (kept-alive connection)."""
    global _sink
    url = urlsplit(os.environ[SINK_ENV])
    for item in items:
        body = json.dumps({"text": item["title"]})
        for attempt in (1, 2):  # a kept connection the sink closed: once more, anew
            if _sink is None:
                _sink = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
            try:
                _sink.request("POST", "/services/T0/B0/X0", body, {"Content-Type": "text/json"})
                _sink.getresponse().read()
                break
            except (OSError, http.client.HTTPException):
                _sink.close()
                _sink = None
                if attempt == 2:
                    raise


def floor_api() -> Any:
    """One route: the POSTed bulletin's items as one ``floor.send`` task, answered 202."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def post(request: Request) -> JSONResponse:
        items = json.loads(await request.body())["items"]
        app.send_task("floor.send", args=[items])
        return JSONResponse({"status": "accepted", "accepted": len(items)}, 202)

    return Starlette(routes=[Route("/v1/bulletins", post, methods=["POST"])])


@contextmanager
def floor_stack(env: dict[str, str]) -> Iterator[Stack]:
    """Redis, the sink, the floor's API and its worker (``env``: the service's, for logging);
    all stopped after. A ``Stack``, so ``pipeline.drive`` runs it as it runs the service."""
    server = RedisServer().start()
    sink = SinkProcess().start()
    started: list[Service] = []
    try:
        env = {**env, BROKER_ENV: server.url, SINK_ENV: sink.webhook_base}
        port = free_port()
        api = Service("floor-api", [sys.executable, __file__, "--serve", str(port)], env).start()
        started.append(api)
        argv = [sys.executable, "-m", "celery", "-A", "bench.pipeline_floor", "worker"]
        argv += ["--pool", "prefork", "--concurrency", "2", "-Q", QUEUE, "-n", "floor@%h"]
        argv += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"]
        worker = Service("floor-worker", argv, env).start()
        started.append(worker)
        worker.wait_for_output("floor worker ready")
        stack = Stack(server, sink, env, f"http://127.0.0.1:{port}", api, [worker])
        wait_listening(api, port)
        yield stack
    finally:
        for service in reversed(started):
            service.stop()
        sink.stop()
        server.close()


if __name__ == "__main__" and sys.argv[1:2] == ["--serve"]:
    serve_baseline(int(sys.argv[2]), "bench.pipeline_floor:floor_api")
