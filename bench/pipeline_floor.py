"""The floor under ``bench/pipeline.py``'s figures: the service's plumbing with none of its work.

The API half is a bare Starlette route under uvicorn, run as ``alerts api`` runs it (options,
logging, our HTTP protocol): it reads the POSTed JSON and queues it as the service queues a
small bulletin: POSTs within the linger of the last write share one task message
(``alerts.api.batcher``), written with the service's publisher (``workers.publish``) on
redis-py's asyncio client, one round trip. The worker half is the service's Celery app
(``workers.app``: its transport, consumer, hub and trace, started with ``alerts worker``'s
flags) running one more task, ``floor.send``, which POSTs each item's title to the sink with
the service's Slack sender (``alerts.notify.webhook_http.WebhookPoster``, a kept-alive
connection). No item parsing, de-duplication, intake record, matching, ledger, story,
throttle, rendering or metrics: what the plumbing costs at a given rate on this machine.
``pipeline.py`` prints the service's CPU per item beside it.

Importing this module builds the service's Celery app: ``ALERTS_REDIS_URL`` and
``ALERTS_CONFIG`` must be set (``pipeline_stack.floor_stack`` does).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.notify.webhook_http import WebhookPoster
from workers.app import app
from workers.publish import RedisTaskQueue

TASK = "floor.send"
SINK_ENV = "FLOOR_SINK"  # the sink's webhook base URL (``pipeline_stack.FLOOR_SINK_ENV``)
_poster: WebhookPoster | None = None


@app.task(name=TASK)
def send(items: list[dict[str, Any]]) -> None:
    """POST each item's title to the sink, as one Slack message each."""
    global _poster
    if _poster is None:
        _poster = WebhookPoster(os.environ[SINK_ENV] + "/services/T0/B0/X0", timeout=10.0)
    for item in items:
        body = json.dumps({"text": item["title"]}).encode()
        answer = _poster.post(body, {"Content-Type": "application/json"})
        if answer.status != 200:
            raise RuntimeError(f"the sink answered {answer.status}")


def floor_api() -> Any:
    """One route: the POSTed bulletin's items queued as the service queues a small bulletin's:
    POSTs within ``api_publish_linger_ms`` of the last write share the next one (the service's
    ``Batcher``, linger and batch size, keyed by connection), one ``floor.send`` task message
    for them all, in one round trip of redis-py's asyncio client; then 202."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from alerts.api.batcher import Batcher
    from alerts.redis_conn import connect_async
    from alerts.settings import load_settings
    from workers.api import PerLoop

    settings = load_settings()
    queue = RedisTaskQueue.for_settings(app, settings, TASK)
    if queue is None:
        raise SystemExit("the floor needs the broker to be the Redis of ALERTS_REDIS_URL")
    client = PerLoop(partial(connect_async, settings.redis_url or ""))

    async def write(bulletins: Sequence[list[dict[str, Any]]]) -> list[int]:
        items = [item for bulletin in bulletins for item in bulletin]
        pipe = client().pipeline(transaction=False)
        queue.push(pipe, [], {"items": items}, f"{{'items': <{len(items)} items>}}", plain=True)
        await pipe.execute()
        return [len(bulletin) for bulletin in bulletins]

    linger = settings.api_publish_linger_ms / 1000
    batcher = PerLoop(partial(Batcher, write, linger, settings.api_publish_batch))

    async def post(request: Request) -> JSONResponse:
        items = json.loads(await request.body())["items"]
        accepted = await batcher()(items, request.scope.get("client"))
        return JSONResponse({"status": "accepted", "accepted": accepted}, 202)

    return Starlette(routes=[Route("/v1/bulletins", post, methods=["POST"])])


if __name__ == "__main__":
    if sys.argv[1:2] != ["--serve"]:
        raise SystemExit("usage: pipeline_floor.py --serve PORT (pipeline.py starts it)")
    from bench.api_post import serve_baseline

    serve_baseline(int(sys.argv[2]), "bench.pipeline_floor:floor_api")
