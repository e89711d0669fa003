"""CPU per POST of the real API server, beside a bare route on the same server settings.

Starts a private Redis, the real ``alerts api`` (uvicorn as that command runs it) and a
baseline server: uvicorn with the same options (``alerts.commands.main.uvicorn_options``) and
the same logging, serving one bare Starlette route that reads the body and answers 202. One
keep-alive connection posts one-item JSON bulletins, one after the other, with pre-built
request bytes (the load generator stays cheap); the servers are measured in alternating
rounds. Per POST: the server process's CPU (``/proc/<pid>/stat``, every thread), Redis CPU,
Redis commands and the load generator's own CPU; then the ratio to the baseline.

``--in-process`` drives the app through ASGI in this process instead (no uvicorn; the
baseline likewise); ``ALERTS_BENCH_ROOT=/work/main /work/main/.venv/bin/python
bench/api_post.py --in-process`` measures another tree's app the same way.
``--callgrind`` counts the in-process instructions per POST under valgrind (steady where
timings are not; ``--posts 200`` takes about a minute).
``--compare ROOT`` adds ``alerts api`` of another checkout (run by its own ``.venv``, e.g.
main's) to the alternation, for a same-minute A/B. ``--rate R`` paces the POSTs (R per second,
the server idling in between, as ``pipeline.py`` at 100/s); ``--made-up-words`` gives each
item its own words, so the language model reads new text each POST; ``--clients 8`` posts
on 8 keep-alive connections side by side, as ``pipeline.py``'s Poster does.

``python bench/api_post.py [--quick] [--posts 2000] [--rounds 3] [--compare /work/main]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import redis

sys.path.insert(
    0, os.environ.get("ALERTS_BENCH_ROOT") or str(Path(__file__).resolve().parent.parent)
)

from bench.pipeline_load import FILL, pseudo_word
from tests.support.processes import Service, service_env, write_config
from tests.support.redis_server import RedisServer, free_port

TOKEN = "bench-token-not-a-secret"
ITEMS = {"made-up": False}  # --made-up-words
TICKS = os.sysconf("SC_CLK_TCK")


def baseline_app() -> Any:
    """The baseline: one bare route that reads the body and answers 202 with a small JSON."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def post(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"status": "accepted", "accepted": 1, "bytes": len(body)}, 202)

    return Starlette(routes=[Route("/v1/bulletins", post, methods=["POST"])])


def serve_baseline(port: int, app: str = "bench.api_post:baseline_app") -> None:
    """Run the baseline (``app``: its factory's import path) under uvicorn with ``alerts api``'s
    options and logging."""
    import uvicorn

    from alerts.api import accesslog
    from alerts.commands.main import uvicorn_options
    from alerts.observe.logs import configure_logging
    from alerts.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_setup())
    accesslog.install()
    options = uvicorn_options(settings, host="127.0.0.1", port=port, workers=None)
    uvicorn.run(app, **options)


def start_server(env: dict[str, str], kind: str, root: Path) -> tuple[Service, int]:
    """``alerts api`` of the tree at ``root`` (its own venv), or the baseline, once it answers."""
    port = free_port()
    if kind == "baseline":
        argv = [sys.executable, __file__, "--serve-baseline", str(port)]
    else:
        python = root / ".venv" / "bin" / "python"
        argv = [str(python), "-m", "alerts", "api", "--host", "127.0.0.1", "--port", str(port)]
        env = {**env, "PYTHONPATH": str(root)}
    service = Service(kind, argv, env, cwd=root).start()
    wait_listening(service, port)
    return service, port


def wait_listening(service: Service, port: int) -> None:
    """Until ``service`` accepts connections on ``port`` (AssertionError after 60 s, or if it
    exits, with its output)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline or (service.proc and service.proc.poll() is not None):
                raise AssertionError(f"{service.name} did not start:\n{service.output()}") from None
            time.sleep(0.2)


def requests(n: int, start: int) -> list[bytes]:
    """``n`` POSTs of a one-item JSON bulletin (~400 bytes), each with its own item id; with
    ``ITEMS["made-up"]``, each item's own made-up words, as ``pipeline.py`` posts them."""
    filler = " ".join(f"word{k % 97}" for k in range(50))
    out = []
    for seq in range(start, start + n):
        item = {"id": f"ap{seq:08d}", "title": f"ap{seq:08d} Harbour closed", "body": filler}
        if ITEMS["made-up"]:  # the language model reads 200 characters of new words each time
            rng = random.Random(seq)
            words = [pseudo_word(rng, FILL, 2, 4) for _ in range(60)]
            item["title"] = f"ap{seq:08d} " + " ".join(words[:8]).capitalize()
            item["body"] = " ".join(words[8:]) + "."
        body = json.dumps({"items": [item]}).encode()
        head = (
            "POST /v1/bulletins?source=bench HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        out.append(head.encode() + body)
    return out


def post_all(port: int, reqs: Sequence[bytes], rate: float | None = None, clients: int = 1) -> None:
    """Send each request and read its 202 before that connection's next; ``clients``
    keep-alive connections side by side, each in its own thread (as ``pipeline.py``'s Poster,
    8); with ``rate``, request ``i`` goes at ``i/rate`` seconds (the server idles in between)."""
    start = time.monotonic()
    if clients <= 1:
        post_some(port, list(enumerate(reqs)), start, rate)
        return
    with ThreadPoolExecutor(clients) as pool:
        shares = [list(enumerate(reqs))[k::clients] for k in range(clients)]
        for done in [pool.submit(post_some, port, share, start, rate) for share in shares]:
            done.result()


def post_some(
    port: int, reqs: Sequence[tuple[int, bytes]], start: float, rate: float | None
) -> None:
    """``post_all``'s one connection: each ``(i, request)`` in turn, at ``start + i/rate``."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for i, req in reqs:
            if rate and (wait := start + i / rate - time.monotonic()) > 0:
                time.sleep(wait)
            sock.sendall(req)
            read_answer(sock)


def read_answer(sock: socket.socket) -> None:
    """Read one 202 answer (its head and its ``content-length`` body) from ``sock``."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += sock.recv(65536)
    head, _, rest = buf.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 202"):
        raise AssertionError(head.decode(errors="replace"))
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        rest += sock.recv(65536)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, all its threads (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def native_parts(pid: int) -> str:
    """Which of uvloop and httptools the server process has loaded (its memory map)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    found = [name for name in ("uvloop", "httptools") if f"/{name}/" in maps]
    return ", ".join(found) or "neither uvloop nor httptools"


def redis_state(client: redis.Redis) -> tuple[float, int]:
    """Redis CPU seconds and commands served so far (INFO itself not counted)."""
    cpu = client.info("cpu")
    stats = client.info("commandstats")
    calls = sum(int(v["calls"]) for k, v in stats.items() if not k.startswith("cmdstat_info"))
    return cpu["used_cpu_sys"] + cpu["used_cpu_user"], calls


def measure(
    pid: int,
    port: int,
    client: redis.Redis,
    reqs: Sequence[bytes],
    rate: float | None = None,
    clients: int = 1,
) -> dict[str, float]:
    """Post ``reqs`` (at ``rate`` per second when given) and return CPU (ms) and Redis
    commands per POST."""
    n = len(reqs)
    r0, c0 = redis_state(client)
    s0, g0, t0 = cpu_seconds(pid), time.process_time(), time.monotonic()
    post_all(port, reqs, rate, clients)
    s1, g1, t1 = cpu_seconds(pid), time.process_time(), time.monotonic()
    r1, c1 = redis_state(client)
    client.delete("alerts", "alerts:ingest:intake", "alerts:ingest:intake:wake")
    return {
        "server_ms": 1000 * (s1 - s0) / n,
        "redis_ms": 1000 * (r1 - r0) / n,
        "commands": (c1 - c0) / n,
        "loadgen_ms": 1000 * (g1 - g0) / n,
        "posts_s": n / (t1 - t0),
    }


def line(name: str, runs: list[dict[str, float]]) -> str:
    """Median of each figure over the rounds, and the spread of the server's CPU."""
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    spread = ", ".join(f"{r['server_ms']:.3f}" for r in runs)
    return (
        f"{name:9} server CPU {med['server_ms']:.3f} ms/POST (rounds: {spread}), Redis "
        f"{med['redis_ms']:.3f} ms, {med['commands']:.1f} commands, load generator "
        f"{med['loadgen_ms']:.3f} ms, {med['posts_s']:.0f} POSTs/s"
    )


def counted(name: str, run: Callable[[], None], instrumented: bool) -> None:
    """``run``; under ``valgrind --tool=callgrind --instr-atstart=no``, with its instructions
    counted alone (instrumentation on, then a dump named ``name``)."""
    pid = str(os.getpid())
    if instrumented:
        subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    run()
    if instrumented:
        subprocess.run(["callgrind_control", "-d", name, pid], check=True, capture_output=True)
        subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)


def callgrind(posts: int) -> None:
    """Instructions per POST in process (callgrind: steady on a shared machine), per app."""
    with tempfile.TemporaryDirectory(prefix="alerts-callgrind-") as name:
        argv = [
            "valgrind", "--tool=callgrind", "--instr-atstart=no",
            f"--callgrind-out-file={name}/cg.%p", sys.executable, __file__,
            "--in-process", "--instrumented", "--posts", str(posts), "--rounds", "1",
        ] + (["--made-up-words"] if ITEMS["made-up"] else [])  # fmt: skip
        subprocess.run(argv, check=True, capture_output=True)
        found: dict[str, float] = {}
        for dump in Path(name).glob("cg.*.*"):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: dump (\S+)", text, re.M)
            total = re.search(r"^summary: (\d+)", text, re.M)
            if trigger and total:
                found[trigger[1]] = int(total[1]) / posts
    print(f"callgrind, in process ({sys.path[0]}), {posts} POSTs each")
    for k, per in sorted(found.items()):
        print(f"{k:9} {per / 1e6:.3f}M instructions/POST")


def in_process(posts: int, rounds: int, instrumented: bool = False) -> None:
    """The API app of this tree (``ALERTS_BENCH_ROOT``) and the baseline, driven in this process
    through ASGI (no uvicorn, no HTTP parsing): CPU per POST of the whole process."""
    from bench.pipeline_item import post_all as asgi_post_all

    server = RedisServer().start()
    client = redis.Redis.from_url(server.url)
    with tempfile.TemporaryDirectory(prefix="alerts-bench-") as name:
        env = service_env(write_config(Path(name), api_token=TOKEN), server.url)
        os.environ.update({k: v for k, v in env.items() if k.startswith("ALERTS_")})
        from workers.api import create_api

        apps = {"baseline": baseline_app(), "api": create_api()}
        seq, runs = 0, {k: [] for k in apps}  # type: ignore[var-annotated]
        for app in apps.values():
            asgi_post_all(app, [r.partition(b"\r\n\r\n")[2] for r in requests(200, seq)])
            seq += 200
        for _ in range(rounds):
            for k, app in apps.items():
                bodies = [r.partition(b"\r\n\r\n")[2] for r in requests(posts, seq)]
                seq += posts
                r0, c0 = redis_state(client)
                t0 = time.process_time()
                counted(k, lambda: asgi_post_all(app, bodies), instrumented)  # noqa: B023
                took = time.process_time() - t0
                r1, c1 = redis_state(client)
                redis_ms = 1000 * (r1 - r0) / posts
                runs[k].append(
                    {"cpu": 1000 * took / posts, "redis": redis_ms, "commands": (c1 - c0) / posts}
                )
    server.close()
    load = os.getloadavg()[0]
    print(f"in process ({sys.path[0]}), {posts} POSTs x {rounds} rounds, load {load:.1f}")
    for k, found in runs.items():
        cpu = statistics.median(r["cpu"] for r in found)
        spread = ", ".join(f"{r['cpu']:.3f}" for r in found)
        redis_ms = statistics.median(r["redis"] for r in found)
        print(
            f"{k:9} CPU {cpu:.3f} ms/POST (rounds: {spread}), Redis {redis_ms:.3f} ms, "
            f"{found[0]['commands']:.1f} commands"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Start Redis and both servers, warm up, measure them alternately, print the ratio."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--posts", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--compare", type=Path, help="also run `alerts api` of this tree (main's)")
    p.add_argument("--log-level", help="the servers' log level (WARNING: no access log)")
    p.add_argument("--in-process", action="store_true", help="ASGI in this process, no server")
    p.add_argument("--callgrind", action="store_true", help="in process, instructions per POST")
    p.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--quick", action="store_true", help="a smoke run: 200 POSTs, one round")
    p.add_argument(
        "--rate",
        type=float,
        help="POSTs per second, paced (the server idles between them, as at 100/s in "
        "pipeline.py): CPU per POST is about twice the full-speed figure",
    )
    p.add_argument(
        "--clients",
        type=int,
        default=1,
        help="keep-alive connections posting side by side (pipeline.py's Poster: 8)",
    )
    p.add_argument(
        "--made-up-words",
        action="store_true",
        help="each item its own made-up words, as pipeline.py posts (default: the same filler)",
    )
    args = p.parse_args(argv)
    ITEMS["made-up"] = args.made_up_words
    if args.rate and args.posts == 2000:  # the default: 20 s per round at the rate
        args.posts = int(20 * args.rate)
    if args.quick:
        args.posts, args.rounds = 200, 1
    if args.serve_baseline:
        serve_baseline(args.serve_baseline)
        return 0
    if args.callgrind:
        callgrind(args.posts)
        return 0
    if args.in_process:
        in_process(args.posts, args.rounds, args.instrumented)
        return 0
    server = RedisServer().start()
    client = redis.Redis.from_url(server.url)
    with tempfile.TemporaryDirectory(prefix="alerts-bench-") as name:
        config = write_config(Path(name), api_token=TOKEN)
        env = service_env(config, server.url, ALERTS_BENCH_ROOT=sys.path[0])
        if args.log_level:  # WARNING: no access log line per request
            env["ALERTS_LOG_LEVEL"] = args.log_level
        env["PYTHONPATH"] = sys.path[0]
        here = Path(sys.path[0])
        trees = {"baseline": here, "api": here} | (
            {"compared": args.compare} if args.compare else {}
        )
        procs = {k: start_server(env, k, root) for k, root in trees.items()}
        try:
            seq = 0
            runs: dict[str, list[dict[str, float]]] = {k: [] for k in procs}
            for _, port in procs.values():  # warm-up: imports, connections, caches
                post_all(port, requests(200, seq))
                seq += 200
            for _ in range(args.rounds):
                for k, (svc, port) in procs.items():
                    reqs = requests(args.posts, seq)
                    seq += args.posts
                    assert svc.proc is not None
                    runs[k].append(
                        measure(svc.proc.pid, port, client, reqs, args.rate, args.clients)
                    )
            for k, (svc, _) in procs.items():
                assert svc.proc is not None
                print(f"{k}: pid {svc.proc.pid}, {native_parts(svc.proc.pid)} loaded")
            load = os.getloadavg()[0]
            print(f"{args.posts} one-item POSTs x {args.rounds} rounds, load average {load:.1f}")
            for k, found in runs.items():
                print(line(k, found))
            base = statistics.median(r["server_ms"] for r in runs["baseline"])
            api = statistics.median(r["server_ms"] for r in runs["api"])
            print(f"API / baseline: {api / base:.2f}x; API over baseline {api - base:.3f} ms/POST")
            if args.compare:
                other = statistics.median(r["server_ms"] for r in runs["compared"])
                print(f"API / compared: {api / other:.2f}x ({args.compare})")
        finally:
            for svc, _ in procs.values():
                svc.stop()
            server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
