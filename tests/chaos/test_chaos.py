"""Chaos: kill pool children and a worker, restart Redis, make the sinks flaky; lose nothing.

Runs only with CHAOS_ITEMS set: `make chaos-short` (1,000 items, CI) or `make chaos` (10,000).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from alerts.delivery import redis_store
from alerts.delivery.ledger import DeliveryRow
from alerts.delivery.settings import DeliverySettings
from tests.chaos.faults import Faults
from tests.chaos.harness import (
    bulletins,
    expected,
    flaky_sinks,
    make_items,
    received,
    token_of,
    write_rules,
)
from tests.support.processes import Service, service_env, start_api, start_worker, write_config
from tests.support.rabbitmq import amqp_vhost
from tests.support.redis_server import RedisServer, free_port
from tests.support.slack import SlackTestServer
from tests.support.smtp import SmtpTestServer

ITEMS = int(os.environ.get("CHAOS_ITEMS", "0"))
BROKER = os.environ.get("CHAOS_BROKER", "redis")  # or rabbitmq: `make chaos-rabbitmq`
TOKEN = "chaos-token"
RECOVERY_LIMIT = 120.0
FEED_ITEMS_PER_SECOND = 25.0  # what two 2-process workers sustain here (bench/pipeline.py)
pytestmark = [
    pytest.mark.skipif(not ITEMS, reason="set CHAOS_ITEMS (make chaos / chaos-short)"),
    pytest.mark.timeout(int(ITEMS / FEED_ITEMS_PER_SECOND) + 600),  # feed + recovery + set-up
]


CHAOS_SETTINGS = {
    # Tuned so a task lost with its worker comes back in seconds (production values: README).
    "worker": {"visibility_timeout": 15, "restore_interval": 1, "reconcile_tick": 2},
    "delivery": {
        "lease_seconds": 10,
        "backoff_base": 0.5,
        "backoff_cap": 5,
        "max_attempts": 100,
        "pace_rate": 500,
        "pace_burst": 100,
        "story_threshold": 1.0,
    },
}


def feed(api: str, data: list[bytes], rate: float, done: dict[str, float]) -> None:
    """POST every bulletin at ``rate`` per second, retrying each until it is accepted."""
    with httpx.Client(timeout=10) as client:
        for raw in data:
            started = time.monotonic()
            while True:
                try:
                    resp = client.post(
                        f"{api}/v1/bulletins?source=chaos",
                        content=raw,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    )
                    if resp.status_code == 202:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))
    done["at"] = time.monotonic()


def inject(faults: Faults, env: dict[str, str], feeding: threading.Thread, span: float) -> None:
    """Pool-child kills throughout; one whole worker killed; one Redis restart; over ``span`` s.

    A longer run (the full variant) spreads more faults over its feeding time.
    """
    base = ["child", "child", "worker", "child", "redis", "child", "child", "child"]
    rounds = max(1, round(span / 40))
    plan = base * rounds
    pause = max(3.0, span * 0.75 / len(plan))
    for step in plan:
        time.sleep(pause)
        if step == "child":
            faults.kill_pool_child()
        elif step == "worker":
            faults.kill_worker("worker-w1", env)
        elif step == "redis":
            faults.restart_redis()
    feeding.join()


def ledger_rows(url: str) -> list[DeliveryRow]:
    """Every row of the delivery ledger."""
    store = redis_store(redis.Redis.from_url(url), DeliverySettings())
    return store.ledger.query(watch=None, status=None, limit=1_000_000)


def explain_lost(url: str, lost: list[tuple[str, str]]) -> list[str]:
    """What the ledger says about each lost (channel, token): the first thing to read."""
    rows = {(r.channel, token_of(r.alert.item)): r for r in ledger_rows(url)}
    out = []
    for key in lost[:20]:
        row = rows.get(key)
        out.append(
            f"{key}: no ledger row"
            if row is None
            else f"{key}: {row.status} attempts={row.attempts} wake={row.wake_at} "
            f"next={row.next_attempt_at} err={row.last_error!r} detail={row.detail!r}"
        )
    return out


def test_chaos_loses_nothing_and_duplicates_only_where_flagged(tmp_path: Path) -> None:
    if BROKER == "rabbitmq":
        with amqp_vhost() as amqp:
            run_chaos(tmp_path, broker_url=amqp)
    else:
        run_chaos(tmp_path)


def run_chaos(tmp_path: Path, **broker: str) -> None:
    """Feed, inject the faults, wait for recovery, report the figures and check them."""
    server = RedisServer(appendonly=True).start()
    rules = write_rules(tmp_path / "rules")
    data = bulletins(make_items(ITEMS), size=10)
    want = expected(rules, data)
    services: dict[str, Service] = {}
    with SmtpTestServer() as smtp, SlackTestServer() as slack:
        injected = flaky_sinks(smtp, slack)
        config = write_config(
            tmp_path,
            rules_dir=str(rules),
            api_token=TOKEN,
            channels={
                "email": smtp.apprise_url("desk@example.org"),
                "slack": "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            },
            **CHAOS_SETTINGS,
            **broker,
        )
        env = service_env(config, server.url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=slack.webhook_base)
        try:
            for name in ("w1", "w2"):
                services[f"worker-{name}"] = start_worker(env, name=name)
            port = free_port()
            api = start_api(env, port)
            beat_argv = [sys.executable, "-m", "alerts", "beat", "--schedule",
                         str(tmp_path / "beat")]  # fmt: skip
            beat = Service("beat", beat_argv, env).start()
            faults = Faults(services, server)
            done: dict[str, float] = {}
            span = max(40.0, ITEMS / FEED_ITEMS_PER_SECOND)
            rate = len(data) / span  # bulletins per second
            t0 = time.monotonic()
            feeding = threading.Thread(
                target=feed, args=(f"http://127.0.0.1:{port}", data, rate, done)
            )
            feeding.start()
            stop = threading.Event()
            supervisor = threading.Thread(target=faults.supervise, args=(env, stop), daemon=True)
            supervisor.start()
            inject(faults, env, feeding, span)
            last_fault = faults.last
            deadline = max(last_fault, done["at"]) + RECOVERY_LIMIT
            while time.monotonic() < deadline:
                got = received(smtp, slack)
                if all(got[key] >= 1 for key in want):
                    break
                time.sleep(1)
            complete_at = time.monotonic()
            time.sleep(5)  # late duplicates, if any, would land now
            stop.set()
            supervisor.join()
            got = received(smtp, slack)
            report = figures(want, got, faults, injected, server.url, t0, last_fault, complete_at)
            print("CHAOS " + json.dumps(report), flush=True)
            Path(os.environ.get("CHAOS_REPORT", tmp_path / "chaos.json")).write_text(
                json.dumps(report, indent=2)
            )
        finally:
            for svc in [*services.values(), locals().get("api"), locals().get("beat")]:
                if svc is not None:
                    svc.stop()
            server.close()
    assert report["lost"] == 0, report
    assert report["duplicates"] <= report["flagged"], report
    assert report["duplicates"] <= report["kills"], report
    assert report["recovery_seconds"] <= RECOVERY_LIMIT, report


def figures(
    want: Counter[tuple[str, str]],
    got: Counter[tuple[str, str]],
    faults: Faults,
    injected: dict[str, int],
    url: str,
    t0: float,
    last_fault: float,
    complete_at: float,
) -> dict[str, Any]:
    """The closing-note figures of one chaos run."""
    return {
        "broker": BROKER,
        "items": ITEMS,
        "expected_alerts": len(want),
        "delivered": sum(1 for key in want if got[key] >= 1),
        "lost": sum(1 for key in want if got[key] == 0),
        "unexpected": sum(1 for key in got if key not in want),
        "duplicates": sum(got[key] - 1 for key in got if got[key] > 1),
        "flagged": sum(1 for row in ledger_rows(url) if row.possible_duplicate),
        "lost_detail": explain_lost(url, [key for key in want if got[key] == 0]),
        "kills": faults.count("SIGKILL pool") + faults.count("SIGKILL worker"),
        "pool_child_kills": faults.count("SIGKILL pool"),
        "worker_kills": faults.count("SIGKILL worker"),
        "redis_restarts": faults.count("SIGKILL redis"),
        "worker_crashes_restarted": faults.count("exited by itself"),
        "smtp_451": injected["smtp_451"],
        "slack_429": injected["slack_429"],
        "run_seconds": round(complete_at - t0, 1),
        "recovery_seconds": round(max(0.0, complete_at - last_fault), 1),
    }
