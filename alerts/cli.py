"""The ``alerts`` command: operator tools and the service's processes.

Service processes (worker, beat, api) are started as programs, so this module never imports Celery.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from alerts.errors import ConfigError
from alerts.matching.shards import QUEUE, shard_queue

# Each package registers its own operator commands.
COMMAND_MODULES = ("alerts.ingest.cli", "alerts.matching.cli", "alerts.delivery.cli")


def _cmd_run(args: argparse.Namespace) -> int:
    from alerts.runner import run

    return run(example=args.example)


def _exec_celery(command: str, *extra: str) -> int:
    """Replace this process with ``celery -A workers.app COMMAND`` (Celery is never imported)."""
    settings = _settings()
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", command]
    os.execv(sys.executable, [*argv, "--loglevel", settings.log_level, *extra])


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    concurrency = args.concurrency or settings.worker.concurrency
    queue = QUEUE
    if args.shard is not None:
        if not 0 <= args.shard < settings.worker.shards:
            raise ConfigError([f"--shard {args.shard}: worker.shards is {settings.worker.shards}"])
        os.environ["ALERTS_SHARD"] = str(args.shard)  # the worker holds this shard's watches
        queue = shard_queue(args.shard)
    return _exec_celery("worker", "--concurrency", str(concurrency), "-n", args.name, "-Q", queue)


def _cmd_beat(args: argparse.Namespace) -> int:
    return _exec_celery("beat", "--schedule", args.schedule)


def _cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    uvicorn.run(
        "workers.api:create_api",
        factory=True,
        host=args.host or settings.api_host,
        port=args.port or settings.api_port,
        log_level=settings.log_level.lower(),
    )
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    import httpx

    settings = _settings()
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    url = args.url or f"http://{settings.api_host}:{settings.api_port}"
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    try:
        resp = httpx.post(
            f"{url}/v1/bulletins",
            params={"source": args.source},
            content=data,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        print(f"alerts ingest: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(resp.text)
    return 0 if resp.status_code == 202 else 1


def _settings():  # type: ignore[no-untyped-def]
    from alerts.settings import load_settings

    return load_settings()


def build_parser() -> argparse.ArgumentParser:
    """The full command tree, with the packages' own commands registered."""
    parser = argparse.ArgumentParser(prog="alerts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="start Redis (embedded if unset), a worker, beat and the API")
    p.add_argument("--example", action="store_true", help="submit the bundled example bulletin")
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("worker", help="a Celery worker (ingest, match, deliver)")
    p.add_argument("--concurrency", type=int, default=None)
    p.add_argument("--name", "-n", default="alerts@%h")
    p.add_argument("--shard", type=int, default=None, help="match only this shard's watches")
    p.set_defaults(func=_cmd_worker)
    p = sub.add_parser("beat", help="the scheduler (polls, digests, reconciler)")
    p.add_argument("--schedule", default="celerybeat-schedule")
    p.set_defaults(func=_cmd_beat)
    p = sub.add_parser("api", help="the HTTP API")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=_cmd_api)
    p = sub.add_parser("ingest", help="submit a bulletin FILE (or - for stdin) to the running API")
    p.add_argument("file")
    p.add_argument("--source", default="cli")
    p.add_argument("--url", default=None, help="API base URL (default from settings)")
    p.set_defaults(func=_cmd_ingest)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 2 with one line per problem when the settings are invalid."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"alerts: {line}", file=sys.stderr)
        return 2
