"""The Celery consumer's cost per task message at a paced rate: CPU, context switches, syscalls.

One worker as ``alerts worker --pool POOL`` starts it (``--pool prefork``: one Celery worker of 2
children, the parent is Celery's consumer; ``--pool solo``, the default: 2 solo workers under
the supervisor, each its own consumer) on a private Redis; no-op tasks
(``alerts.ping``) sent at ``--rate`` a second, one at a time (a quiet queue: the consumer
blocks in BRPOP between them, as at 100 alerting items/s). Over the measured window it reports
the pool parent's CPU (psutil), voluntary context switches (its wake-ups) and, with
``--strace``, its system calls (``strace -c -f -p``, a separate run: strace slows the
process), each per task; then the baseline, measured in the same run: as many tasks queued at once
(the consumer takes them back to back, no wake-up between), its CPU per task and the ratio.
``--code DIR`` runs the worker with ``DIR/workers`` in place of this
tree's (an A/B of the consumer's code: ``git archive main workers | tar -x -C DIR``).

    python bench/consumer_ticks.py --rate 50 --seconds 20 [--strace] [--code /tmp/main]
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pipeline_load import make_watches, write_rules  # noqa: E402
from bench.pipeline_stack import tree_cpu  # noqa: E402
from tests.support.processes import Service, service_env, write_config  # noqa: E402
from tests.support.redis_server import RedisServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="tasks a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="the measured window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds sent before it")
    parser.add_argument("--strace", action="store_true", help="count syscalls (strace -c)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the tree whose workers/ runs")
    parser.add_argument("--pool", choices=("solo", "prefork"), default="solo")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp) / "rules"
        write_rules(rules, make_watches(1, random.Random(0)))
        server = RedisServer().start()
        try:
            config = write_config(Path(tmp), rules_dir=str(rules))
            env = service_env(config, server.url)
            argv = [sys.executable, "-m", "alerts", "worker", "--concurrency", "2"]
            argv += ["--pool", args.pool]
            worker = Service("worker-ticks", [*argv, "--name", "ticks@%h"], env, cwd=args.code)
            worker.start()
            try:
                worker.wait_for_output("ready.")
                assert worker.proc is not None
                report(args, server, psutil.Process(worker.proc.pid))
            finally:
                worker.stop()
        finally:
            server.close()


def report(args: argparse.Namespace, server: RedisServer, parent: psutil.Process) -> None:
    app = Celery("ticks", broker=server.url)
    app.conf.update(task_default_queue="alerts", task_serializer="json")
    with app.producer_or_acquire() as producer:
        send = lambda n: app.send_task("alerts.ping", args=[f"t{n}"], producer=producer)  # noqa: E731
        pace(send, args.rate, args.warmup, 0)
        tracer = None
        if args.strace:
            out = Path(tempfile.mkstemp(prefix="ticks-strace-")[1])
            tracer = subprocess.Popen(
                ["strace", "-c", "-f", "-p", str(parent.pid), "-o", str(out)],
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        children = parent.children()
        cpu0, ctx0 = sum(parent.cpu_times()[:2]), parent.num_ctx_switches()
        kids0 = [(sum(c.cpu_times()[:2]), c.num_ctx_switches().voluntary) for c in children]
        sent = pace(send, args.rate, args.seconds, 10**6)
        time.sleep(0.5)  # the last task's ack
        cpu1, ctx1 = sum(parent.cpu_times()[:2]), parent.num_ctx_switches()
        kids1 = [(sum(c.cpu_times()[:2]), c.num_ctx_switches().voluntary) for c in children]
        if tracer is not None:
            tracer.send_signal(signal.SIGINT)
            tracer.wait()
    kids_cpu = sum(b[0] - a[0] for a, b in zip(kids0, kids1, strict=True))
    tree = (cpu1 - cpu0 + kids_cpu) / sent
    kids_ctx = sum(b[1] - a[1] for a, b in zip(kids0, kids1, strict=True))
    code = "this tree" if args.code == ROOT else str(args.code)
    print(
        f"{'consumer' if args.pool == 'prefork' else 'supervisor'} ({code}) at {args.rate:g}/s, "
        f"{sent} tasks: "
        f"CPU {(cpu1 - cpu0) / sent * 1e3:.3f} ms/task, "
        f"voluntary switches {(ctx1.voluntary - ctx0.voluntary) / sent:.2f}/task, "
        f"involuntary {(ctx1.involuntary - ctx0.involuntary) / sent:.2f}/task; its children: "
        f"CPU {kids_cpu / sent * 1e3:.3f} ms/task, voluntary switches {kids_ctx / sent:.2f}/task"
    )
    if tracer is not None:
        print(syscalls(out.read_text(), sent))
        out.unlink()
    print(f"the worker's processes together ({args.pool}): CPU {tree * 1e3:.3f} ms/task")
    burst = queued_at_once(app, server, parent, sent)
    print(
        f"baseline, {sent} tasks queued at once: the worker's processes' CPU {burst * 1e3:.3f} "
        f"ms/task; paced / queued {tree / burst:.2f}x"
    )


def queued_at_once(app: Celery, server: RedisServer, parent: psutil.Process, tasks: int) -> float:
    """The worker's processes' CPU seconds per task for ``tasks`` no-op tasks queued at once."""
    client = redis.Redis.from_url(server.url)
    cpu0 = tree_cpu(parent.pid)
    with app.producer_or_acquire() as producer:
        for n in range(tasks):
            app.send_task("alerts.ping", args=[f"b{n}"], producer=producer)
    deadline = time.monotonic() + 120
    while (client.llen("alerts") or client.hlen("unacked")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the last task's ack
    return (tree_cpu(parent.pid) - cpu0) / tasks


def pace(send: object, rate: float, seconds: float, first: int) -> int:
    """Send ``rate`` tasks a second for ``seconds``; the count sent."""
    assert callable(send)
    start, n = time.monotonic(), 0
    while n < rate * seconds:
        due = start + n / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        send(first + n)
        n += 1
    return n


def syscalls(table: str, tasks: int) -> str:
    """strace -c's table as calls per task, the total first."""
    rows = []
    for line in table.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
            rows.append((int(parts[3]), parts[-1]))
    total = sum(calls for calls, _ in rows)
    top = ", ".join(f"{name} {calls / tasks:.2f}" for calls, name in sorted(rows, reverse=True))
    return f"syscalls {total / tasks:.2f}/task: {top}"


if __name__ == "__main__":
    main()
