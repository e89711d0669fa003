"""Runs of the real service across failures (Sentinel failover, shards): feed, supervise, count.

A worker that exits on its own is restarted, as compose's ``restart:`` policy does; everything
else is the chaos harness's: generated items, the in-process oracle and the counting sinks.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from base64 import b64decode
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from alerts.delivery import redis_store
from alerts.delivery.settings import DeliverySettings
from alerts.ingest.intake import INTAKE_KEY
from tests.chaos.harness import TOKEN as ITEM_TOKEN
from tests.chaos.harness import bulletins, expected, make_items, received, token_of, write_rules
from tests.chaos.test_chaos import CHAOS_SETTINGS, TOKEN, feed
from tests.support.processes import Service, service_env, start_api, start_worker, write_config
from tests.support.redis_server import free_port
from tests.support.slack import SlackTestServer
from tests.support.smtp import SmtpTestServer


@dataclass
class HaRun:
    """A running service fed with generated items, and what it must deliver."""

    api: str
    env: dict[str, str]
    smtp: SmtpTestServer
    slack: SlackTestServer
    data: list[bytes]
    want: Counter[tuple[str, str]]
    workers: dict[str, Service] = field(default_factory=dict)
    worker_args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    others: list[Service] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    restarts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def feed(self, rate: float) -> threading.Thread:
        """POST every bulletin at ``rate`` per second in a thread (each retried until accepted)."""
        done: dict[str, float] = {}
        thread = threading.Thread(target=feed, args=(self.api, self.data, rate, done))
        thread.start()
        return thread

    def supervise(self) -> None:
        """Restart any worker that exits on its own until ``stop`` is set."""
        while not self.stop.wait(0.5):
            with self.lock:
                for name, worker in list(self.workers.items()):
                    if worker.proc is not None and worker.proc.poll() is not None:
                        self.restarts.append(name)
                        self.workers[name] = self.start_worker(name)

    def start_worker(self, name: str) -> Service:
        """Start (or restart) a worker with its own arguments."""
        service = start_worker(self.env, name=name, args=self.worker_args[name])
        self.workers[name] = service
        return service

    def got(self) -> Counter[tuple[str, str]]:
        """Deliveries per (channel, token) so far."""
        return received(self.smtp, self.slack)

    def wait_delivered(self, timeout: float) -> float:
        """Block until every expected alert arrived (or ``timeout``); returns when (monotonic)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.got()
            if all(got[key] >= 1 for key in self.want):
                break
            time.sleep(0.5)
        return time.monotonic()

    def counts(self, client: redis.Redis) -> dict[str, int]:
        """Lost, duplicated and flagged deliveries (the ledger's possible-duplicate rows)."""
        got = self.got()
        rows = redis_store(client, DeliverySettings()).ledger.query(
            watch=None, status=None, limit=1_000_000
        )
        return {
            "expected": len(self.want),
            "lost": sum(1 for key in self.want if got[key] == 0),
            "duplicates": sum(n - 1 for n in got.values() if n > 1),
            "flagged": sum(1 for row in rows if row.possible_duplicate),
            "worker_restarts": len(self.restarts),
        }

    def where_lost(self, client: redis.Redis) -> list[str]:
        """For each lost (channel, token): its ledger row as the master has it (or none), and
        whether a bulletin holding it is still in the intake: where a loss happened."""
        got = self.got()
        lost = {key for key in self.want if got[key] == 0}
        rows = redis_store(client, DeliverySettings()).ledger.query(
            watch=None, status=None, limit=1_000_000
        )
        found = {(row.channel, token_of(row.alert.item)): row for row in rows}
        kept = [json.loads(body) for body in client.hvals(INTAKE_KEY)]
        waiting = {t for _, b64, _ in kept for t in ITEM_TOKEN.findall(b64decode(b64).decode())}
        out = []
        for channel, token in sorted(lost):
            row = found.get((channel, token))
            state = "no row" if row is None else f"{row.status} wake={row.wake_at} {row.detail}"
            out.append(f"{channel} {token}: {state}; in intake: {token in waiting}")
        return out


@contextmanager
def ha_run(
    tmp: Path, redis_url: str, items: int, workers: dict[str, tuple[str, ...]], **settings: Any
) -> Iterator[HaRun]:
    """Workers (name -> extra ``alerts worker`` arguments), the API and a supervisor."""
    rules = write_rules(tmp / "rules")
    data = bulletins(make_items(items), size=10)
    with SmtpTestServer() as smtp, SlackTestServer() as slack:
        channels = {
            "email": smtp.apprise_url("desk@example.org"),
            "slack": "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        }
        config = write_config(
            tmp, rules_dir=str(rules), api_token=TOKEN, channels=channels,
            **(CHAOS_SETTINGS | settings),
        )  # fmt: skip
        env = service_env(config, redis_url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=slack.webhook_base)
        port = free_port()
        run = HaRun(f"http://127.0.0.1:{port}", env, smtp, slack, data, expected(rules, data))
        run.worker_args = workers
        supervisor = threading.Thread(target=run.supervise, daemon=True)
        try:
            for name in workers:
                run.start_worker(name)
            run.others.append(start_api(env, port))
            run.others.append(Service("beat", beat_argv(tmp), env).start())  # the reconciler
            supervisor.start()
            yield run
        finally:
            run.stop.set()
            if supervisor.is_alive():
                supervisor.join()
            for svc in [*run.workers.values(), *run.others]:
                svc.stop()
                (tmp / f"{svc.name}.log").write_text(svc.output())  # kept for a post-mortem
            print("\n".join(svc.output()[-3000:] for svc in run.workers.values()))


def beat_argv(tmp: Path) -> list[str]:
    """``alerts beat`` as a process."""
    return [sys.executable, "-m", "alerts", "beat", "--schedule", str(tmp / "beat-schedule")]
