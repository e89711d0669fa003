"""End to end: POSTs that come together share one intake write and one ingest task; each is
answered for itself and every alert is sent once."""

from __future__ import annotations

import importlib
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from pydantic import ValidationError

from tests.workers.conftest import Stack, running_stack
from tests.workers.test_e2e import settle

WORDS = [f"{a}{b}" for a in ("kor", "vel", "tam", "pru", "zin", "lok") for b in ("ad", "ex", "um")]


def bulletin(n: int) -> bytes:
    rng = random.Random(n)
    text = " ".join(rng.choice(WORDS) + str(n) for _ in range(30))
    item = {"id": f"g{n}", "title": f"Ceasefire {n}: {text[:60]}", "body": f"{text} ceasefire."}
    return httpx.Request("POST", "/", json={"items": [item]}).content


def post(stack: Stack, n: int) -> httpx.Response:
    return httpx.post(
        f"{stack.api}/v1/bulletins?source=wire",
        content=bulletin(n),
        headers={**stack.headers(), "Content-Type": "application/json"},
        timeout=20,
    )


@contextmanager
def task_messages(client: redis.Redis) -> Iterator[list[str]]:
    """The task names of the messages pushed on the ingest queue meanwhile (Redis MONITOR)."""
    names: list[str] = []
    db = client.connection_pool.connection_kwargs.get("db", 0)
    monitor = client.monitor().__enter__()  # MONITOR sent: listening from now
    # MONITOR shows commands in the order Redis ran them: this one, sent last, ends the read.
    end = f"ECHO task_messages:end:{id(names)}"

    def listen() -> None:
        try:
            for event in monitor.listen():
                command = event["command"]
                if command == end:
                    return
                if event["db"] == db and command.startswith("LPUSH alerts "):
                    names.append(command.split('"task": "')[1].split('"')[0])
        except (redis.ConnectionError, OSError, ValueError):
            return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    try:
        yield names
    finally:
        # Every push made meanwhile ran before this marker: the listener has read them all
        # once it reads the marker (a disconnect at once could drop events not yet read).
        client.echo(end.removeprefix("ECHO "))
        thread.join(5)
        monitor.connection.disconnect()


def test_concurrent_posts_share_a_task_and_each_alerts_once(
    tmp_path: Path, redis_url: str, redis_client
) -> None:
    rules = Path(__file__).resolve().parents[2] / "rules"
    with running_stack(
        tmp_path, redis_url, redis_client, rules_dir=str(rules), api_publish_linger_ms=400,
        delivery={"paced_channels": []},
    ) as stack:  # fmt: skip
        with task_messages(redis_client) as names:
            assert post(stack, 0).json()["new"] == 1  # quiet: written and queued at once, alone
            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(lambda n: post(stack, n), range(1, 9)))
        assert names[0] == "alerts.ingest_bulletin"
        assert "alerts.ingest_bulletins" in names[1:]  # several bulletins, one task message
        assert len(names) < 9
        assert [a.status_code for a in answers] == [202] * 8
        assert [a.json()["new"] for a in answers] == [1] * 8
        stack.slack.wait_for(9, timeout=60)
        again = post(stack, 3)  # one of them again: stored, nothing new, nothing sent
        assert again.json()["new"] == 0
        settle(stack)
        assert len(stack.slack.requests) == 9
        titles = " ".join(str(r.payload) for r in stack.slack.requests)
        assert all(f"Ceasefire {n}:" in titles for n in range(9))
        assert not redis_client.hlen("alerts:ingest:intake")  # every bulletin released


def group(*bad: int) -> list[dict[str, object]]:
    """Bulletins b1..b3 of n items each; those in ``bad`` have an item that does not decode."""
    item = {"id": "i", "source": "s", "title": "Kaluga"}
    return [
        {"source": "s", "bulletin_id": f"b{n}", "items": [{} if n in bad else item] * n}
        for n in (1, 2, 3)
    ]


def test_a_bulletin_that_does_not_decode_leaves_the_others_to_the_hand_on_then_fails_the_task(
    monkeypatch, redis_url: str
) -> None:
    """One bad bulletin of several: the others are ingested, then its error fails the task (it
    stays in the intake, where the reconciler finds it)."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)  # workers.app builds an app on import
    tasks = importlib.import_module("workers.tasks")
    done: list[list[str]] = []

    def ingest_group(s, posted):  # type: ignore[no-untyped-def]
        done.append([p.bulletin_id for p in posted])
        return sum(len(p.parsed.items) for p in posted), None

    monkeypatch.setattr(tasks, "ingest_group", ingest_group)
    with pytest.raises(ValidationError):
        tasks.ingest_bulletins.run(bulletins=group(2))
    assert done == [["b1", "b3"]]  # one hand-on for both
    assert tasks.ingest_bulletins.run(bulletins=group()) == 6


def test_the_first_error_of_the_group_fails_the_task_after_the_others(
    monkeypatch, redis_url: str
) -> None:
    """``ingest_group`` did the others and hands back a bulletin's error: the task raises it
    (after a bulletin's that did not decode, the first)."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    tasks = importlib.import_module("workers.tasks")

    def ingest_group(s, posted):  # type: ignore[no-untyped-def]
        return len(posted), ValueError("bad bulletin")

    monkeypatch.setattr(tasks, "ingest_group", ingest_group)
    with pytest.raises(ValueError, match="bad bulletin"):
        tasks.ingest_bulletins.run(bulletins=group())
    with pytest.raises(ValidationError):
        tasks.ingest_bulletins.run(bulletins=group(2))
