"""The bulletins of one ``alerts.ingest_bulletins`` task share one hand-on: one write records
their deliveries and releases them all from the intake; each is logged and counted as before,
a retry hands on nothing twice, and without a valid rule set all of them wait."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from alerts import handoff_commit, item_steps
from alerts.delivery.ledger import row_id
from alerts.ingest.intake import Accepted
from alerts.usecases import bulletins
from tests.workers.test_fused_ingest import break_rules, in_process


@pytest.fixture
def tasks(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``workers.tasks`` in this process over the test Redis (``test_fused_ingest``), with
    no channel paced."""
    module = in_process(tmp_path, redis_url, redis_client, monkeypatch)
    deps = module.rt.delivery
    monkeypatch.setattr(deps, "conf", deps.conf.model_copy(update={"paced_channels": []}))
    return module


def posted(tasks: Any, n: int, *titles: str, ids: list[str] | None = None) -> dict[str, Any]:
    """Bulletin ``b<n>`` as the API's group message holds it, in the intake."""
    items = [
        {"id": i, "source": "api", "title": t}
        for i, t in zip(ids or [f"b{n}-{k}" for k in range(len(titles))], titles, strict=True)
    ]
    tasks.rt.intake.add(Accepted(f"b{n}", "api", "", "application/json"), tasks.rt.clock())
    return {"source": "api", "bulletin_id": f"b{n}", "items": items, "fmt": "json"}


def writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The hand-on writes (their item counts) from now on."""
    counts: list[int] = []
    run = handoff_commit._run

    def counting(client: Any, keys: list[str], args: list[Any]) -> Any:
        counts.append(int(args[0]))
        return run(client, keys, args)

    monkeypatch.setattr(handoff_commit, "_run", counting)
    return counts


def test_the_bulletins_of_a_task_share_one_write_and_are_each_logged(
    tasks, monkeypatch, caplog
) -> None:
    group = [
        posted(tasks, 1, "Drones over Kaluga"),
        posted(tasks, 2, "Talks in Geneva", "Weather is mild"),
        posted(tasks, 3, "Kaluga again", ids=["b1-0"]),  # an item of b1: new in b1 only
    ]
    counts = writes(monkeypatch)
    with caplog.at_level(logging.INFO, logger="alerts.usecases.bulletins"):
        assert tasks.ingest_bulletins.run(bulletins=group) == 3
    assert counts == [3]  # one write, each item once
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("bulletin")]
    assert lines == [f"bulletin from api: {n} new items" for n in (1, 2, 0)]
    assert [r.item_ids for r in caplog.records if hasattr(r, "item_ids")] == [
        ["b1-0"], ["b2-0", "b2-1"], []
    ]  # fmt: skip
    later = tasks.rt.clock() + timedelta(hours=1)
    assert tasks.rt.intake.due(later, later) == []  # every bulletin released by that write
    ledger, notifier = tasks.rt.delivery.store.ledger, tasks.rt.delivery.notifier
    # three deliveries: each bulletin's own two inline sends (inline_deliveries: 2) are kept
    assert len(notifier.sent) == 3 and tasks.calls == []
    for key in ("kaluga|b1-0|slack", "kaluga|b1-0|email", "geneva|b2-0|slack"):
        assert ledger.get(row_id(key)).status == "sent"
    assert tasks.ingest_bulletins.run(bulletins=group) == 0  # a retry: nothing twice
    assert len(notifier.sent) == 3


def test_without_a_valid_rule_set_every_bulletin_of_the_task_waits(
    tasks, tmp_path, monkeypatch
) -> None:

    class Retried(Exception):
        pass

    monkeypatch.setattr(tasks.ingest_bulletins, "retry", lambda **_: Retried())
    break_rules(tasks, tmp_path)
    group = [posted(tasks, 1, "Drones over Kaluga"), posted(tasks, 2, "Talks in Geneva")]
    with pytest.raises(Retried):
        tasks.ingest_bulletins.run(bulletins=group)
    later = tasks.rt.clock() + timedelta(hours=1)
    assert sorted(b.id for b in tasks.rt.intake.due(later, later)) == ["b1", "b2"]
    assert tasks.rt.seen.unseen(["b1-0", "b2-0"]) == ["b1-0", "b2-0"]


def exploding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Matching raises on a chunk with an item titled "Explode" (a bad item of one bulletin)."""
    timed = item_steps.timed_alerts

    def matching(chunk: Any, *args: Any) -> Any:
        if any(item.title == "Explode" for item in chunk):
            raise ValueError("matching exploded")
        return timed(chunk, *args)

    monkeypatch.setattr(item_steps, "timed_alerts", matching)


def test_a_bulletin_whose_matching_raises_fails_the_task_the_others_sent(
    tasks, monkeypatch
) -> None:
    """The real path: the group's hand-on fails, each bulletin goes on its own; the bad one
    stays in the intake (the reconciler queues it again), the others are sent and released."""
    exploding(monkeypatch)
    group = [
        posted(tasks, 1, "Drones over Kaluga"),
        posted(tasks, 2, "Explode"),
        posted(tasks, 3, "Talks in Geneva"),
    ]
    with pytest.raises(ValueError, match="matching exploded"):
        tasks.ingest_bulletins.run(bulletins=group)
    later = tasks.rt.clock() + timedelta(hours=1)
    assert [b.id for b in tasks.rt.intake.due(later, later)] == ["b2"]
    sent = {(a.watch, a.item.id) for _, a, _ in tasks.rt.delivery.notifier.sent}
    assert sent == {("kaluga", "b1-0"), ("geneva", "b3-0")}
    assert tasks.rt.seen.unseen(["b1-0", "b2-0", "b3-0"]) == ["b2-0"]


def test_the_fallback_skips_a_large_bulletin_done_first_and_counts_each_once(
    tasks, monkeypatch, caplog
) -> None:
    """A bulletin of more than one chunk went through on its own before the group's hand-on
    failed: the fallback does not ingest it again (no second follow-up, no second log line),
    and each bulletin is counted (``items_parsed``) once."""
    exploding(monkeypatch)
    chunk = tasks.rt.settings.worker.ingest_chunk
    counted: list[int] = []
    count = item_steps.counted
    monkeypatch.setattr(
        item_steps, "counted", lambda items, **kw: counted.append(len(items)) or count(items, **kw)
    )
    big = posted(tasks, 1, *(f"Filler {k}" for k in range(chunk + 1)))
    group = [big, posted(tasks, 2, "Explode"), posted(tasks, 3, "Talks in Geneva")]
    logs = caplog.at_level(logging.INFO, logger="alerts.usecases.bulletins")
    with logs, pytest.raises(ValueError, match="matching exploded"):
        tasks.ingest_bulletins.run(bulletins=group)
    assert [name for name, _ in tasks.calls] == ["ingest"]  # big's one follow-up
    ids = [r.bulletin_id for r in caplog.records if r.getMessage().startswith("bulletin from")]
    assert ids == ["b1", "b3"]
    assert sorted(counted) == [1, 1, chunk + 1]


def test_an_error_after_the_groups_write_fails_the_task_without_the_fallback(
    tasks, monkeypatch
) -> None:
    """Queueing a delivery fails after the write: the items are seen, their rows recorded, so
    ingesting each bulletin on its own would find nothing and the task succeed with 0."""
    settings = tasks.rt.settings
    worker = settings.worker.model_copy(update={"inline_deliveries": 0})  # all queued
    quick = settings.model_copy(update={"worker": worker})
    services = tasks.services
    monkeypatch.setattr(tasks, "services", lambda: replace(services(), settings=quick))
    calls: list[str] = []

    def deliver(*_: Any) -> None:
        raise RuntimeError("cannot queue")

    monkeypatch.setattr(tasks.deliver_alert, "delay", deliver)
    monkeypatch.setattr(  # a bulletin on its own
        bulletins, "ingest_bulletin", lambda *args, **_: calls.append(args[4]) or []
    )
    group = [posted(tasks, 1, "Drones over Kaluga"), posted(tasks, 2, "Talks in Geneva")]
    with pytest.raises(RuntimeError, match="cannot queue"):
        tasks.ingest_bulletins.run(bulletins=group)
    assert calls == []  # no fallback
    assert tasks.rt.seen.unseen(["b1-0", "b2-0"]) == []
