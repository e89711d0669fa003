"""The alerts command: operator tools and the service's processes.

Service processes (worker, beat, api) are started as programs, so this module never imports Celery.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alerts.errors import ConfigError
from alerts.matching.shards import QUEUE, shard_queue

if TYPE_CHECKING:
    from alerts.settings import Settings

# Operator commands, each module adding its subcommands (rules: check, test, match, backtest, ...).
COMMAND_MODULES = ("alerts.commands.ingest", "alerts.commands.rules", "alerts.commands.delivery")


def _cmd_run(args: argparse.Namespace) -> int:
    from alerts.commands.runner import run

    return run(example=args.example, state_dir=args.state_dir)


def _exec_celery(command: str, *extra: str, quiet: bool = False) -> int:
    """Replace this process with ``celery -A workers.app COMMAND`` (Celery is never imported)."""
    os.execv(sys.executable, [*_celery_argv(command, quiet=quiet), *extra])
    return 0


def _celery_argv(command: str, *, quiet: bool) -> list[str]:
    """``celery -A workers.app COMMAND --loglevel LEVEL``, with no banner when asked or when
    the logs are JSON (every line on the output is then a JSON log line)."""
    settings = _settings()
    banner = ["--quiet"] if quiet or settings.log_format == "json" else []
    argv = [sys.executable, "-m", "celery", "-A", "workers.app", *banner, command]
    return [*argv, "--loglevel", settings.log_level]


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings()
    concurrency = args.concurrency or settings.worker.concurrency
    queue = QUEUE
    if args.shard is not None:
        if not 0 <= args.shard < settings.worker.shards:
            raise ConfigError([f"--shard {args.shard}: worker.shards is {settings.worker.shards}"])
        os.environ["ALERTS_SHARD"] = str(args.shard)  # the worker holds this shard's watches
        queue = shard_queue(args.shard)
    if (args.pool or settings.worker.pool) == "prefork" or settings.solo_broker() is None:
        argv = ("--concurrency", str(concurrency), "-n", args.name, "-Q", queue, *WORKER_QUIET)
        return _exec_celery("worker", *argv, quiet=args.quiet)
    celery = _celery_argv("worker", quiet=args.quiet)
    os.execv(sys.executable, solo_workers_argv(celery, concurrency, args.name, queue))
    return 0


def solo_workers_argv(celery: list[str], processes: int, name: str, queue: str) -> list[str]:
    """The supervisor's command (``workers/supervisor.py``) for ``processes`` one-process
    workers, each ``celery`` (``celery -A APP worker ...``) on the solo pool with ``alerts
    worker``'s flags, named after ``name`` (alerts@%h: alerts-1@%h, alerts-2@%h, ...)."""
    child = [*celery, "--pool", "solo", "--concurrency", "1", "-Q", queue, *WORKER_QUIET]
    supervisor = [sys.executable, "-m", "workers.supervisor", "--processes", str(processes)]
    return [*supervisor, "--name", name, "--", *child]


# Worker events nobody reads: heartbeats every 2 s, each worker taking in every other's
# (gossip), and the start-up sync of revoked ids (mingle; nothing is revoked). /healthz pings
# through remote control, which stays. About 3% of the consumer's CPU per task (issue 13).
WORKER_QUIET = ("--without-gossip", "--without-mingle", "--without-heartbeat")


def _cmd_beat(args: argparse.Namespace) -> int:
    return _exec_celery("beat", "--schedule", args.schedule, quiet=args.quiet)


def _cmd_api(args: argparse.Namespace) -> int:
    import uvicorn

    from alerts.observe.logs import configure_logging
    from alerts.observe.multiproc import ensure_dir

    settings = _settings()
    ensure_dir()  # before uvicorn starts its workers: they share the metrics directory
    configure_logging(settings.log_setup())
    options = uvicorn_options(settings, host=args.host, port=args.port, workers=args.workers)
    uvicorn.run("workers.api:create_api", **options)
    return 0


def uvicorn_options(
    settings: Settings, *, host: str | None, port: int | None, workers: int | None
) -> dict[str, Any]:
    """How ``alerts api`` runs uvicorn (``bench/api_post.py`` serves its baseline the same way)."""
    return {
        "factory": True,
        "host": host or settings.api_host,
        "port": port or settings.api_port,
        "workers": workers,
        "log_level": settings.log_level.lower(),
        "log_config": None,  # our handler and format (configure_logging), not uvicorn's
        "http": _http_protocol(),
    }


def _http_protocol() -> str:
    """uvicorn's HTTP protocol: ours (a response's head and body in one write,
    ``alerts/api/wire.py``) where it imports, else uvicorn's own choice (h11 without httptools)."""
    try:
        importlib.import_module("alerts.api.wire")
    except ImportError:
        return "auto"
    return "alerts.api.wire:Protocol"


def _cmd_ingest(args: argparse.Namespace) -> int:
    # urllib, not httpx: this command must start fast, and one POST needs no client library.
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import Request, urlopen

    settings = _settings(resolve_secrets=False)  # a client: the channels' secrets are not its
    if settings.api_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    url = args.url or f"http://{settings.api_host}:{settings.api_port}"
    query = urlencode({"source": args.source or source_name(args.file)})
    token = settings.api_token.get_secret_value()
    request = Request(f"{url}/v1/bulletins?{query}", data=data, method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/octet-stream")  # the API reads the content
    try:
        with urlopen(request, timeout=30) as resp:
            status, body = resp.status, resp.read()
    except HTTPError as exc:
        status, body = exc.code, exc.read()
    except (URLError, OSError) as exc:
        print(f"alerts ingest: cannot reach {url}: {exc}", file=sys.stderr)
        return 1
    print(body.decode("utf-8", "replace"))
    return 0 if status == 202 else 1


NO_TOKEN = (
    "alerts ingest: no API token: set ALERTS_API_TOKEN to the API's token "
    "(`alerts run` prints the one it made for its session)"
)
_NOT_SOURCE = re.compile(r"[^A-Za-z0-9_.-]+")


def source_name(file: str) -> str:
    """The source an ingested file is recorded under: its name, as a valid source id."""
    if file == "-":
        return "stdin"
    name = _NOT_SOURCE.sub("-", Path(file).name).lstrip("_.-")[:64]
    return name or "file"


def _settings(*, resolve_secrets: bool = True):  # type: ignore[no-untyped-def]
    from alerts.settings import load_settings

    return load_settings(resolve_secrets=resolve_secrets)


def _root_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("run", help="start Redis (embedded if unset), a worker, beat and the API")
    p.add_argument(
        "--example",
        action="store_true",
        help="demo: the example's settings and bulletin, state in a temporary folder",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=Path("var"),
        help="where the embedded Redis and beat keep their files (default ./var)",
    )
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("worker", help="a Celery worker (ingest, match, deliver)")
    p.add_argument(
        "--concurrency", type=int, default=None, help="processes (default worker.concurrency)"
    )
    p.add_argument(
        "--pool",
        choices=("solo", "prefork"),
        default=None,
        help="solo workers under a supervisor, or one prefork worker (default worker.pool)",
    )
    p.add_argument("--name", "-n", default="alerts@%h", help="node name (default alerts@%%h)")
    p.add_argument("--quiet", action="store_true", help="no start-up banner")
    p.add_argument("--shard", type=int, default=None, help="match only this shard's watches")
    p.set_defaults(func=_cmd_worker)
    p = sub.add_parser("beat", help="the scheduler (polls, digests, reconciler)")
    p.add_argument("--schedule", default="celerybeat-schedule", help="beat's schedule file")
    p.add_argument("--quiet", action="store_true", help="no start-up banner")
    p.set_defaults(func=_cmd_beat)
    p = sub.add_parser("api", help="the HTTP API")
    p.add_argument("--host", default=None, help="address to listen on (default api_host)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (default api_port)")
    p.add_argument("--workers", type=int, default=None, help="uvicorn worker processes")
    p.set_defaults(func=_cmd_api)
    p = sub.add_parser("ingest", help="submit a bulletin FILE (or - for stdin) to the running API")
    p.add_argument("file", help="the bulletin file, or - for stdin")
    p.add_argument("--source", default=None, help="source name (default: the file name)")
    p.add_argument("--url", default=None, help="API base URL (default from settings)")
    p.set_defaults(func=_cmd_ingest)


ROOT_COMMANDS = ("run", "worker", "beat", "api", "ingest")


def build_parser(*, packages: bool = True) -> argparse.ArgumentParser:
    """The full command tree, with the packages' own commands registered unless told not to."""
    parser = argparse.ArgumentParser(prog="alerts", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _root_commands(sub)
    for name in COMMAND_MODULES if packages else ():
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: exit 2 with one line per problem when the settings are invalid."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # The service's own commands skip importing every package's tools: `ingest` starts fast.
    args = build_parser(packages=not argv or argv[0] not in ROOT_COMMANDS).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for line in exc.problems:
            print(f"alerts: {line}", file=sys.stderr)
        return 2
