"""The cost of one alerting item, process by process, without Celery's scheduling noise.

``bench/pipeline.py`` measures the whole service, but on a shared machine its CPU per item
swings with the other load. This runs the two halves of an item's path in this one process,
one after the other, on a private Redis, with the Slack-like sink in its own process:

1. the API: ``N`` POSTs of a one-item bulletin, each firing one watch, straight into the ASGI
   app of ``alerts api`` (``workers.api.create_api``; its Celery publish goes to the private
   Redis);
2. the worker: each task message the API queued is taken off the queue and its task body run
   (``alerts.ingest_bulletin``: seen check, match against the watches, the writes, the send).

For each: CPU per item (this process, all threads), Redis CPU per item, Redis commands and
client round trips per item. Not counted: Celery's consumer (BRPOP, unacked bookkeeping, ack:
``bench/pipeline.py`` has them) and uvicorn's HTTP parsing.

``--callgrind`` runs this under valgrind and counts the worker half's instructions per item
(steady where CPU seconds are not; instrumentation only around the task bodies, the bench's
RPOP and JSON decoding included). ``ALERTS_BENCH_ROOT=/other/tree`` measures another tree.

``--group N`` (default 1) POSTs the bulletins N at a time, concurrently, with a linger: the
API's ``Batcher`` writes each N as one ``alerts.ingest_bulletins`` task (one hand-on of N
items, as the service groups POSTs under load) where by default each POST is a task of its own.

``python bench/pipeline_item.py [--items 400] [--watches 10000] [--group 1] [--callgrind]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis
from redis.connection import AbstractConnection

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # bench.callgrind, here
from bench.callgrind import instrumented, measured_instructions
from bench.pipeline_load import Items, item_languages, make_watches, write_rules
from bench.pipeline_sink import SinkProcess
from bench.pipeline_stack import SLACK_URL, TOKEN
from tests.support.processes import service_env, write_config
from tests.support.redis_server import RedisServer

TRIPS = [0]
_SEND = AbstractConnection.send_packed_command


def _counting(self: Any, command: Any, check_health: bool = True) -> None:
    TRIPS[0] += 1
    _SEND(self, command, check_health)


def measured(client: redis.Redis, n: int, run: Callable[[], None]) -> str:
    """Run ``run`` and say what it cost per item."""
    client.config_resetstat()
    cpu0 = client.info("cpu")
    trips0, t0 = TRIPS[0], time.process_time()
    run()
    took, trips = time.process_time() - t0, TRIPS[0] - trips0
    cpu1 = client.info("cpu")
    rcpu = sum(cpu1[k] - cpu0[k] for k in ("used_cpu_sys", "used_cpu_user"))
    stats = client.info("commandstats")
    calls = {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}
    calls = {k: v for k, v in calls.items() if not k.startswith(("config", "info"))}
    top = ", ".join(f"{k} {v / n:.1f}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1]))
    return (
        f"CPU {1000 * took / n:.2f} ms/item, Redis CPU {1000 * rcpu / n:.2f} ms/item, "
        f"{sum(calls.values()) / n:.1f} Redis commands/item, {trips / n:.1f} round trips/item\n"
        f"    {top}"
    )


def post_all(app: Any, bodies: Sequence[bytes], group: int = 1) -> None:
    """POST each body to the ASGI app, as uvicorn would hand it over; ``group`` at a time,
    concurrently, each from a connection of its own (the API's ``Batcher`` groups them)."""

    async def one(body: bytes, port: int = 1) -> None:
        headers = [
            (b"authorization", f"Bearer {TOKEN}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "POST", "scheme": "http", "path": "/v1/bulletins", "raw_path": b"",
            "query_string": b"source=bench", "root_path": "", "headers": headers,
            "client": ("127.0.0.1", port), "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        sent = [False]

        async def receive() -> dict[str, Any]:
            if sent[0]:
                return {"type": "http.disconnect"}
            sent[0] = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = [0]

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]

        await app(scope, receive, send)
        assert status[0] == 202, status

    async def every() -> None:
        for at in range(0, len(bodies), group):
            chunk = bodies[at : at + group]
            await asyncio.gather(*(one(body, at + n) for n, body in enumerate(chunk)))

    asyncio.run(every())


def run_tasks(client: redis.Redis, tasks: Any) -> int:
    """Take every queued task message and run its task body here (``workers.tasks``' one of
    its name)."""
    done = 0
    while raw := client.rpop("alerts"):
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        task = getattr(tasks, message["headers"]["task"].removeprefix("alerts."))
        task.run(*args, **kwargs)
        done += 1
    return done


def _instrumented(run: Callable[[], None], on: bool) -> None:
    """``run``, its instructions counted alone when ``on`` (under callgrind)."""
    with instrumented(on):
        run()


def callgrind(items: int, watches: int, group: int) -> None:
    """This bench under callgrind: the worker half's instructions per item."""
    args = (
        "--instrumented",
        "--items",
        str(items),
        "--watches",
        str(watches),
        "--group",
        str(group),
    )
    total = measured_instructions(__file__, *args, echo=True)
    print(f"callgrind ({sys.path[0]}): {total / items / 1e6:.3f}M instructions per item")


def main(argv: Sequence[str] | None = None) -> int:
    """Set up, warm up, measure the API then the worker."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=400)
    p.add_argument("--watches", type=int, default=10_000)
    p.add_argument("--group", type=int, default=1, help="bulletins a task (the API's linger)")
    p.add_argument("--callgrind", action="store_true", help="instructions per item, valgrind")
    p.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.callgrind:
        callgrind(args.items, args.watches, args.group)
        return 0
    server, sink = RedisServer().start(), SinkProcess().start()
    with tempfile.TemporaryDirectory(prefix="alerts-bench-") as name:
        tmp = Path(name)
        watches = make_watches(args.watches, random.Random(42))
        write_rules(tmp / "rules", watches)
        config = write_config(
            tmp, rules_dir=str(tmp / "rules"), api_token=TOKEN, channels={"slack": SLACK_URL},
            delivery={"paced_channels": []}, worker={"item_languages": item_languages(watches)},
            # one task per POST: the per-item path, as measured before; else groups of --group
            api_publish_linger_ms=0 if args.group == 1 else 50, api_publish_batch=args.group,
        )  # fmt: skip
        env = service_env(config, server.url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=sink.webhook_base)
        os.environ.update({k: v for k, v in env.items() if k.startswith("ALERTS_")})
        if args.instrumented:  # valgrind's slow clock would check the rules dir every item
            os.environ["ALERTS_RULES_RELOAD_SECONDS"] = "86400"
        from workers import tasks
        from workers.api import create_api

        app = create_api()
        client = redis.Redis.from_url(server.url)
        factory = Items(watches)
        bodies = [json.dumps({"items": [factory.make(alert=True)]}).encode() for _ in range(20)]
        post_all(app, bodies, args.group)  # warm-up: the rules load, connections, scripts
        run_tasks(client, tasks)
        AbstractConnection.send_packed_command = _counting  # type: ignore[method-assign]
        bodies = [
            json.dumps({"items": [factory.make(alert=True)]}).encode() for _ in range(args.items)
        ]
        n = args.items
        print(f"{n} one-item bulletins, each firing one of {args.watches} watches")
        print(
            f"API (POST /v1/bulletins, in process, {args.group} at a time):",
            measured(client, n, lambda: post_all(app, bodies, args.group)),
        )
        ran: list[int] = []
        worker = lambda: ran.append(run_tasks(client, tasks))  # noqa: E731
        line = measured(client, n, lambda: _instrumented(worker, args.instrumented))
        print(f"worker (the ingest task's body, {ran[0]} tasks):", line)
        time.sleep(0.5)
        print(f"sink received {sink.count()} messages")
    sink.stop()
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
