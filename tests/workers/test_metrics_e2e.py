"""/metrics after real items went through a real worker (2 pool children) and the API.

The expected counts come from the rules engine run in-process over the same bulletin; the
exposition text is read with prometheus-client's own parser.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from alerts.ingest import parse_bulletin
from alerts.matching import Matcher, build_alerts, load_ruleset
from tests.support.processes import Service, service_env, write_config
from tests.support.redis_server import free_port
from tests.workers.conftest import ROOT, TOKEN, running_stack
from tests.workers.test_e2e import settle, wait_until

BULLETIN = ROOT / "examples" / "bulletin.txt"


def samples(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, keyed by (name, labels)."""
    text = httpx.get(url, timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(found: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    """Sum of the samples of ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and want <= ls)


def expected() -> tuple[Counter[str], int]:
    """Watches that fire on the bulletin (by id) and the deliveries they raise."""
    ruleset = load_ruleset(ROOT / "rules")
    matcher = Matcher(ruleset)
    watches: Counter[str] = Counter()
    deliveries = 0
    for item in parse_bulletin(BULLETIN.read_bytes(), source="desk"):
        for alert in build_alerts(ruleset, item, matcher.match(item)):
            watches[alert.watch] += 1
            deliveries += len(alert.channels)
    return watches, deliveries


def test_metrics_count_what_went_through_the_worker(
    tmp_path: Path, redis_url: str, redis_client
) -> None:
    watches, deliveries = expected()
    assert deliveries > 0
    port = free_port()
    with running_stack(
        tmp_path, redis_url, redis_client,
        sources=[{"id": "desk", "kind": "webhook"}],
        metrics={"worker_port": port},
    ) as stack:  # fmt: skip
        data = BULLETIN.read_bytes()
        arrived = lambda: len(stack.smtp.messages) + len(stack.slack.requests)  # noqa: E731
        for _ in range(2):  # the second time every item is old news: parsed, not new
            resp = httpx.post(
                f"{stack.api}/v1/bulletins?source=desk", content=data, headers=stack.headers()
            )
            assert resp.status_code == 202, resp.text
            wait_until(lambda: arrived() >= 1)
            settle(stack)
        bad = httpx.post(f"{stack.api}/v1/bulletins?source=desk", content=b"  \n",
                         headers=stack.headers())  # fmt: skip
        assert bad.status_code == 400
        worker = samples(f"http://127.0.0.1:{port}/metrics")
        api = samples(f"{stack.api}/metrics")

    items = len(parse_bulletin(data, source="desk"))
    assert total(worker, "alerts_items_ingested_total", source="desk", format="text") == 2 * items
    assert total(worker, "alerts_items_new_total", source="desk") == items
    assert total(worker, "alerts_match_seconds_count") == items
    for watch, count in watches.items():
        assert total(worker, "alerts_matches_total", watch=watch) == count
    assert total(worker, "alerts_matches_total") == sum(watches.values())
    assert total(worker, "alerts_deliveries_total", status="sent") == arrived()
    finished = total(worker, "alerts_deliveries_total") - total(
        worker, "alerts_deliveries_total", status="retry"
    )
    assert finished >= deliveries
    assert total(worker, "alerts_deliveries_total", status="dead") == 0

    assert total(api, "alerts_parse_errors_total", source="desk") == 1
    assert total(api, "alerts_redis_up") == 1
    assert total(api, "alerts_queue_depth", queue="alerts") == 0
    assert total(api, "alerts_ledger_rows", status="sent") == arrived()
    assert total(api, "alerts_oldest_pending_delivery_age_seconds") == 0
    version = load_ruleset(ROOT / "rules").version
    assert total(api, "alerts_ruleset_info", version=version) == 1
    assert total(api, "alerts_ruleset_reload_failing") == 0


def test_api_workers_share_one_count(tmp_path: Path, redis_url: str, redis_client) -> None:
    """``alerts api --workers 2``: each process counts alone, every scrape shows the sum.

    The access log names the process that served each request: the test goes on until both
    processes counted and both answered a scrape.
    """
    config = write_config(tmp_path, api_token=TOKEN, rules_dir=str(ROOT / "rules"))
    port = free_port()
    argv = [sys.executable, "-m", "alerts", "api", "--host", "127.0.0.1", "--port", str(port),
            "--workers", "2"]  # fmt: skip
    api = Service("api", argv, service_env(config, redis_url)).start()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    sent = 0
    try:
        wait_until(lambda: _answers(f"{base}/healthz"))
        while len(_served_by(api, "POST /v1/bulletins")) < 2:
            assert sent < 200, api.output()
            bad = httpx.post(f"{base}/v1/bulletins?source=api", content=b" ", headers=headers)
            assert bad.status_code == 400
            sent += 1
        scrapes = 0
        while len(_served_by(api, "GET /metrics")) < 2:
            assert scrapes < 200, api.output()
            assert total(samples(f"{base}/metrics"), "alerts_parse_errors_total") == sent
            scrapes += 1
    finally:
        api.stop()


def _served_by(api: Service, request: str) -> set[str]:
    """Pids of the processes whose access log shows ``request``."""
    return {
        line.split("uvicorn.access[")[1].split("]")[0]
        for line in api.output().splitlines()
        if "uvicorn.access[" in line and request in line
    }


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return False
    return True
