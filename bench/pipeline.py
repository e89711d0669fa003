"""Benchmark the whole service: API -> Celery -> match against 10k watches -> delivery to a sink.

Run ``python bench/pipeline.py`` (full, a few minutes) or ``--quick`` (smoke, under a minute).
Everything runs on loopback: a Redis the bench starts itself (never the machine's), real
``alerts worker`` and ``alerts api`` processes, and the Slack-like test server as the sink.

Each item targets one generated watch (terms, phrases, booleans), so it raises exactly one
alert and one Slack POST; latency is sink arrival minus the start of the item's POST (both on
this process's monotonic clock, the item's sequence number travels in its title). Batched runs
post bulletins of many items; most of them match nothing, to measure ingest+match.
The baseline is a trivial Celery task round trip through the same worker: ``alerts.ping``,
whose only effect is one Redis SET. (It used ``alerts.match_items([])`` observed by its SET of the
rules status key, until that key came to be written only when it changes: the baseline hung.)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
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
import yaml
from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.processes import Service, service_env, start_api, start_worker, write_config
from tests.support.redis_server import RedisServer, free_port
from tests.support.slack import SlackTestServer

TOKEN = "bench-token-not-a-secret"
SLACK_URL = "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"
SEQ = re.compile(r"bq(\d{8})")
WATCHES_PER_FILE = 500
CORES = psutil.cpu_count() or 1
# Filler and watch terms come from disjoint syllables, so filler never fires a watch.
FILL = ["ka", "lu", "mo", "re", "ti", "san", "dor", "vel", "pri", "ne", "ro", "ta", "gor", "le"]
TERM = ["zu", "xo", "qy", "zef", "xib", "quv", "zyx", "qoz", "xuq", "zip", "vyx", "wuz"]


def pseudo_word(rng: random.Random, parts: Sequence[str], lo: int, hi: int) -> str:
    """A made-up word of ``lo``..``hi`` syllables."""
    return "".join(rng.choice(parts) for _ in range(rng.randint(lo, hi)))


@dataclass(frozen=True)
class Watch:
    """One generated watch and the text an item needs to fire it."""

    spec: dict[str, Any]
    trigger: str


def make_watches(n: int, rng: random.Random) -> list[Watch]:
    """``n`` watches: 50% single terms, 25% phrases, 25% booleans (all + any + none)."""
    words: set[str] = set()
    while len(words) < 4 * n:
        words.add(pseudo_word(rng, TERM, 4, 6))
    pool = sorted(words)
    rng.shuffle(pool)
    out = []
    for i in range(n):
        a, b, c, d = pool[4 * i : 4 * i + 4]
        spec: dict[str, Any] = {"id": f"w{i:05d}", "notify": {"channels": ["slack"]}}
        roll = i % 4
        if roll < 2:
            spec["any"], trigger = [a, b], a
        elif roll == 2:
            spec["any"], trigger = [f"{a} {b}"], f"{a} {b}"
        else:
            spec.update({"all": [a, b], "any": [c, f"{c} {d}"], "none": [d]})
            trigger = f"{b} {c} {a}"
        out.append(Watch(spec, trigger))
    return out


def write_rules(rules_dir: Path, watches: Sequence[Watch]) -> None:
    """The watches as YAML files of ``WATCHES_PER_FILE`` watches each."""
    rules_dir.mkdir(parents=True, exist_ok=True)
    for start in range(0, len(watches), WATCHES_PER_FILE):
        chunk = [w.spec for w in watches[start : start + WATCHES_PER_FILE]]
        path = rules_dir / f"bench-{start // WATCHES_PER_FILE:03d}.yaml"
        path.write_text(yaml.safe_dump({"watches": chunk}, allow_unicode=True), encoding="utf-8")


class Items:
    """Item factory: unique sequence numbers, random filler, a watch trigger when asked."""

    def __init__(self, watches: Sequence[Watch], seed: int = 7) -> None:
        self.watches = watches
        self.rng = random.Random(seed)
        self.seq = 0
        self.next_watch = 0

    def make(self, *, alert: bool) -> dict[str, Any]:
        """One item of our JSON push schema (~400 bytes), firing one watch when ``alert``."""
        self.seq += 1
        filler = [pseudo_word(self.rng, FILL, 2, 4) for _ in range(60)]
        title = " ".join(filler[:8]).capitalize()
        if alert:
            watch = self.watches[self.next_watch % len(self.watches)]
            self.next_watch += 1
            filler.insert(self.rng.randrange(10, 50), watch.trigger)
        body = " ".join(filler[8:]) + "."
        return {"id": f"bq{self.seq:08d}", "title": f"bq{self.seq:08d} {title}", "body": body}


@dataclass
class Stack:
    """The running service: Redis, sink, API, workers; CPU accounting per role."""

    redis_server: RedisServer
    sink: SlackTestServer
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
def running(tmp: Path, rules_dir: Path) -> Iterator[Stack]:
    """Redis, the sink and the API (workers come and go with ``workers``); all stopped after."""
    server = RedisServer().start()
    sink = SlackTestServer().start()
    api: Service | None = None
    try:
        config = write_config(
            tmp,
            rules_dir=str(rules_dir),
            api_token=TOKEN,
            channels={"slack": SLACK_URL},
            # Pacing (1 message/s per channel by default) would make this a pacing benchmark.
            delivery={"paced_channels": []},
        )
        env = service_env(config, server.url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=sink.webhook_base)
        port = free_port()
        api = start_api(env, port)
        yield Stack(server, sink, env, f"http://127.0.0.1:{port}", api)
    finally:
        if api is not None:
            api.stop()
        sink.stop()
        server.stop()


@contextmanager
def workers(stack: Stack, count: int, concurrency: int) -> Iterator[None]:
    """``count`` more worker processes for the duration of the block."""
    started = []
    try:
        for _ in range(count):
            name = f"b{len(stack.workers)}"
            started.append(start_worker(stack.env, name=name, concurrency=concurrency))
            stack.workers.append(started[-1])
        yield
    finally:
        for service in started:
            service.stop()
            stack.workers.remove(service)


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


def arrivals(sink: SlackTestServer, since: int) -> dict[int, float]:
    """Item sequence number -> first arrival time at the sink, for requests after ``since``."""
    out: dict[int, float] = {}
    for req in sink.requests[since:]:
        m = SEQ.search(json.dumps(req.payload))
        if m:
            out.setdefault(int(m.group(1)), req.received_at)
    return out


def pct(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class RunResult:
    """What one run measured."""

    name: str
    items: int
    alerts_expected: int
    alerts_received: int
    seconds: float
    latencies: list[float]
    cpu: dict[str, float]
    redis_bytes: int
    redis_cmds: dict[str, int]
    failures: int

    @property
    def rate(self) -> float:
        """Items per second from the first POST until the last task finished."""
        return self.items / self.seconds if self.seconds else float("nan")

    def top_commands(self, n: int = 8) -> str:
        """The busiest Redis commands, per item."""
        top = sorted(self.redis_cmds.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{k} {v / max(self.items, 1):.1f}" for k, v in top)

    def capacity(self, cores: int) -> str:
        """Items/s that ``cores`` could carry at this run's CPU per item (an upper bound)."""
        total = sum(self.cpu.values()) / max(self.items, 1)
        busy = sum(self.cpu.values()) / self.seconds if self.seconds else float("nan")
        return (
            f"service CPU {1000 * total:.2f} ms/item (workers+api+redis), {busy:.2f} cores busy "
            f"on average; CPU-bound ceiling on {cores} cores ~ {cores / total:.0f} items/s"
        )

    def line(self) -> str:
        """One report line."""
        lat = self.latencies
        per = {k: 1000 * v / max(self.items, 1) for k, v in self.cpu.items()}
        cmds = sum(self.redis_cmds.values()) / max(self.items, 1)
        return (
            f"{self.name:<26} items={self.items:>6} {self.rate:>7.0f} items/s  "
            f"alerts {self.alerts_received}/{self.alerts_expected}  "
            f"p50={1000 * pct(lat, 0.5):6.1f} ms p99={1000 * pct(lat, 0.99):6.1f} ms "
            f"max={1000 * (max(lat) if lat else float('nan')):6.1f} ms  "
            f"cpu ms/item: workers={per['workers']:.2f} api={per['api']:.2f} "
            f"redis={per['redis']:.2f}  redis cmds/item={cmds:.1f} "
            f"used_memory={self.redis_bytes / 2**20:.1f} MiB"
            + (f"  POST failures={self.failures}" if self.failures else "")
        )


def drive(
    stack: Stack,
    factory: Items,
    name: str,
    *,
    bulletins: int,
    per_bulletin: int,
    rate: float | None,
    alert_every: int,
) -> RunResult:
    """POST ``bulletins`` bulletins (at ``rate`` bulletins/s, or as fast as possible)."""
    before_cpu, since, cmds = stack.cpu(), len(stack.sink.requests), stack.commands()
    poster = Poster(stack.api_url)
    expected: set[int] = set()
    t0 = time.monotonic()
    for n in range(bulletins):
        if rate:
            delay = t0 + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        batch = [
            factory.make(alert=(factory.seq + 1) % alert_every == 0) for _ in range(per_bulletin)
        ]
        expected.update(int(i["id"][2:]) for i in batch if int(i["id"][2:]) % alert_every == 0)
        poster.post(batch)
    poster.close()

    def done() -> bool:
        return len(stack.sink.requests) - since >= len(expected) and stack.drained()

    wait_for(done, timeout=max(120.0, 2.0 * bulletins * per_bulletin / 10), poll=0.02)
    end = time.monotonic()
    got = arrivals(stack.sink, since)
    after = stack.cpu()
    lat = [got[s] - poster.started[s] for s in expected if s in got and s in poster.started]
    return RunResult(
        name,
        bulletins * per_bulletin,
        len(expected),
        len(expected & set(got)),
        end - t0,
        lat,
        {k: after[k] - before_cpu[k] for k in after},
        stack.memory(),
        {k: v - cmds.get(k, 0) for k, v in stack.commands().items() if v > cmds.get(k, 0)},
        len(poster.failures),
    )


def baseline(stack: Stack, rounds: int) -> list[float]:
    """Round trips of a trivial task: ``alerts.ping(key)`` observed by its Redis SET."""
    app = Celery("bench", broker=stack.redis_server.url)
    app.conf.update(task_default_queue="alerts", task_serializer="json")
    r = stack.redis
    out = []
    for n in range(rounds):
        key = f"bench-{n}"
        start = time.monotonic()
        app.send_task("alerts.ping", args=[key])
        while not r.exists(f"alerts:ping:{key}"):
            time.sleep(0.0002)
        out.append(time.monotonic() - start)
        r.delete(f"alerts:ping:{key}")
    app.close()
    return out


def warm_up(stack: Stack, factory: Items, children: int) -> None:
    """Make every pool child load the 10k watches (tens of seconds) before measuring."""
    drive(
        stack, factory, "warm-up", bulletins=2 * children, per_bulletin=1, rate=None, alert_every=1
    )
    wait_for(lambda: stack.drained(), timeout=300, poll=0.5)
    baseline(stack, 2 * children)


def report_baseline(trips: list[float]) -> str:
    """The baseline line."""
    return (
        f"{'baseline: no-op task':<26} {len(trips)} round trips  "
        f"p50={1000 * pct(trips, 0.5):.1f} ms "
        f"p99={1000 * pct(trips, 0.99):.1f} ms  mean={1000 * statistics.fmean(trips):.1f} ms"
    )


def main_runs(args: argparse.Namespace, stack: Stack, factory: Items) -> None:
    """One worker (the default concurrency 2): baseline, fixed rates, then batched."""
    with workers(stack, 1, concurrency=2):
        warm_up(stack, factory, children=2)
        print(f"redis used_memory after warm-up: {stack.memory() / 2**20:.1f} MiB")
        trips = baseline(stack, args.rounds)
        print(report_baseline(trips))
        for rate in args.rates:
            res = drive(
                stack,
                factory,
                f"rate {rate:.0f}/s, 1 item/POST",
                bulletins=int(rate * args.seconds),
                per_bulletin=1,
                rate=rate,
                alert_every=1,
            )
            print(res.line())
            ratio = pct(res.latencies, 0.5) / pct(trips, 0.5)
            print(f"{'':<26} ingest->send p50 = {ratio:.1f} x the no-op task round trip")
            print(f"{'':<26} redis commands per item: {res.top_commands()}")
            print(f"{'':<26} {res.capacity(CORES)}")
        if not args.batched:
            return
        res = drive(
            stack,
            factory,
            f"batched {args.batch}/POST",
            bulletins=args.batched // args.batch,
            per_bulletin=args.batch,
            rate=None,
            alert_every=100,
        )
        print(res.line())
        print(f"{'':<26} {res.capacity(CORES)}")


def scaling_runs(args: argparse.Namespace, stack: Stack, factory: Items) -> None:
    """The same batched load on 1 and on 2 worker processes of concurrency 1."""
    rates = []
    for count in (1, 2):
        with workers(stack, count, concurrency=1):
            warm_up(stack, factory, children=count)
            res = drive(
                stack,
                factory,
                f"{count} worker(s) x conc 1",
                bulletins=args.scale // args.batch,
                per_bulletin=args.batch,
                rate=None,
                alert_every=100,
            )
            print(res.line())
            print(f"{'':<26} {res.capacity(CORES)}")
            rates.append(res.rate)
    print(f"{'scaling':<26} 2 workers / 1 worker = {rates[1] / rates[0]:.2f}x items/s")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line; ``--quick`` shrinks every size."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="a smoke run of under a minute")
    p.add_argument("--watches", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None, help="length of each fixed-rate run")
    p.add_argument("--rates", type=float, nargs="+", default=[5.0, 50.0, 100.0])
    p.add_argument("--batch", type=int, default=500, help="items per POST when batched")
    p.add_argument("--batched", type=int, default=None, help="items in the batched run (0: skip)")
    p.add_argument("--no-scaling", action="store_true")
    args = p.parse_args(argv)
    q = args.quick
    args.watches = args.watches or (500 if q else 10_000)
    args.seconds = args.seconds or (1.0 if q else 20.0)
    args.rates = [5.0, 100.0] if q else args.rates
    args.batched = (1_000 if q else 20_000) if args.batched is None else args.batched
    args.scale = 1_000 if q else 10_000
    args.rounds = 30 if q else 200
    return args


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in psutil.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the watches, run the stacks, print the report."""
    args = parse_args(argv)
    started = time.monotonic()
    print(f"machine load average (1, 5, 15 min) at the start: {_load()}")
    print(
        f"bench/pipeline.py: {psutil.cpu_count()} CPUs, {args.watches} watches, "
        f"fixed rates {args.rates} items/s for {args.seconds:.0f} s, batches of {args.batch}"
    )
    with tempfile.TemporaryDirectory(prefix="alerts-bench-") as name:
        tmp, rules = Path(name), Path(name) / "rules"
        watches = make_watches(args.watches, random.Random(42))
        write_rules(rules, watches)
        factory = Items(watches)
        with running(tmp, rules) as stack:
            main_runs(args, stack, factory)
            if not args.no_scaling:
                scaling_runs(args, stack, factory)
    print(f"machine load average (1, 5, 15 min) at the end: {_load()}")
    print("targets: p99 ingest->send <= 100 ms at 100 items/s; >= 1000 items/s batched")
    print(f"total {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
