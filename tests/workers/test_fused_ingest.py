"""A bulletin is matched inside its ingest task; the crash-safety order still holds.

Runs the task functions in this process over a real Redis, with Celery's ``delay`` recorded
instead of sent, so the order of effects can be checked at the moment items become "seen".
"""

from __future__ import annotations

import gc
import importlib
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from alerts import item_steps
from alerts.clock import system_clock
from alerts.delivery import build_deps
from alerts.delivery.ledger import row_id
from alerts.ingest.dedup import RedisItemArchive, RedisSeenStore
from alerts.ingest.fetch import Fetcher
from alerts.ingest.intake import Accepted, RedisIntake
from alerts.ingest.state import RedisSourceStateStore
from alerts.matching.reload import RulesWatcher
from alerts.models import Item
from alerts.notify.fake import RecordingNotifier
from alerts.settings import Settings
from alerts.usecases.bulletins import hand_on_new, poll_hand_on
from tests.support.seen import CheckBeforeMark

WATCHES = [
    {"id": "kaluga", "any": ["kaluga"], "notify": {"channels": ["slack", "email"]}},
    {"id": "geneva", "any": ["geneva"], "notify": {"channels": ["slack"]}},
]


class CheckingSeen(CheckBeforeMark, RedisSeenStore):
    """A seen store that runs ``check`` just before items are marked seen."""


@pytest.fixture
def tasks(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``workers.tasks`` with a runtime over the test Redis and recorded ``delay`` calls."""
    return in_process(tmp_path, redis_url, redis_client, monkeypatch)


def in_process(
    tmp_path: Path, redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``workers.tasks`` as the ``tasks`` fixture gives it (its other modules' fixture)."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    module = importlib.import_module("workers.tasks")
    runtime_mod = importlib.import_module("workers.runtime")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "w.yaml").write_text(yaml.safe_dump({"watches": WATCHES}), encoding="utf-8")
    settings = Settings(
        redis_url=redis_url,
        rules_dir=rules,
        channels={"slack": ["console://"], "email": ["console://"]},
        worker={"match_batch": 3, "inline_deliveries": 2},
    )
    rt = runtime_mod.Runtime(
        settings=settings,
        redis=redis_client,
        seen=CheckingSeen(redis_client),
        archive=RedisItemArchive(redis_client),
        rules=RulesWatcher(rules, channels=["slack", "email"], clock=system_clock),
        delivery=build_deps(settings.delivery, redis_client, RecordingNotifier()),
        clock=system_clock,
        fetcher=Fetcher(),
        source_state=RedisSourceStateStore(redis_client),
        intake=RedisIntake(redis_client),
    )
    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(module, "runtime", lambda: rt)
    monkeypatch.setattr(module.match_items, "delay", lambda *a: calls.append(("match", a)))
    monkeypatch.setattr(module.deliver_alert, "delay", lambda *a: calls.append(("deliver", a)))
    monkeypatch.setattr(
        module.ingest_bulletin, "delay", lambda *a, **k: calls.append(("ingest", (*a, k)))
    )
    module.calls, module.rt = calls, rt
    return module


def items(*titles: str) -> list[Item]:
    return [Item(id=f"i{n}", source="t", title=t) for n, t in enumerate(titles)]


def test_a_small_bulletin_is_matched_in_its_ingest_task_before_it_is_seen(tasks) -> None:
    batch = items("Drones over Kaluga", "Talks in Geneva", "Weather is mild")
    ledger = tasks.rt.delivery.store.ledger
    expected = {("geneva", "i1", "slack"), ("kaluga", "i0", "email"), ("kaluga", "i0", "slack")}
    notifier = tasks.rt.delivery.notifier

    def check(ids: list[str]) -> None:
        # When items become "seen", every delivery is recorded pending and none was sent yet.
        assert ids == ["i0", "i1", "i2"]
        assert tasks.calls == [] and notifier.sent == []
        for watch, item, channel in expected:
            row = ledger.get(row_id(f"{watch}|{item}|{channel}"))
            assert row is not None and row.status == "pending"

    tasks.rt.seen.check = check
    assert hand_on_new(tasks.services(), batch) == ["i0", "i1", "i2"]
    assert tasks.rt.seen.unseen(["i0", "i1", "i2"]) == []
    # Two deliveries went out from this task (inline_deliveries: 2), the third was queued.
    sent = {(a.watch, a.item.id, ch) for ch, a, _ in notifier.sent}
    queued = {(a[0]["watch"], a[0]["item"]["id"], a[1]) for kind, a in tasks.calls}
    assert [kind for kind, _ in tasks.calls] == ["deliver"]
    assert len(sent) == 2 and sent | queued == expected
    for key in sent:
        assert ledger.get(row_id("|".join(key))).status == "sent"


def test_an_inline_delivery_that_must_wait_becomes_a_task(tasks, monkeypatch) -> None:
    from alerts.notify.base import SendResult

    later: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.deliver_alert, "apply_async", lambda *a, **k: later.append((a, k)))
    busy = SendResult(ok=False, retryable=True, error="429", retry_after=3.0)
    tasks.rt.delivery.notifier = type(tasks.rt.delivery.notifier)({"slack": [busy]})
    hand_on_new(tasks.services(), items("Talks in Geneva"))
    assert len(later) == 1 and later[0][1]["countdown"] >= 3.0
    ((alert, channel),) = later[0][0]
    assert (alert["watch"], channel) == ("geneva", "slack")
    assert tasks.rt.delivery.store.ledger.get(row_id("geneva|i0|slack")).status == "retrying"


def test_a_big_bulletin_is_matched_in_chunks_in_its_ingest_task_before_it_is_seen(
    tasks, monkeypatch
) -> None:
    batch = items(*[f"Drones over Kaluga, report {n}" for n in range(7)])
    ledger = tasks.rt.delivery.store.ledger
    notifier = tasks.rt.delivery.notifier
    chunks: list[int] = []
    alerts_for = item_steps.alerts_for
    monkeypatch.setattr(
        item_steps, "alerts_for", lambda i, *a: chunks.append(len(i)) or alerts_for(i, *a)
    )

    def check(ids: list[str]) -> None:
        # All 7 items at once, after every chunk's 14 deliveries were recorded pending.
        assert ids == [f"i{n}" for n in range(7)] and chunks == [3, 3, 1]
        assert tasks.calls == [] and notifier.sent == []
        for n in range(7):
            for channel in ("slack", "email"):
                row = ledger.get(row_id(f"kaluga|i{n}|{channel}"))
                assert row is not None and row.status == "pending"

    tasks.rt.seen.check = check
    assert len(hand_on_new(tasks.services(), batch)) == 7
    # No match task: two deliveries sent inline, the other twelve queued.
    assert [kind for kind, _ in tasks.calls] == ["deliver"] * 12
    assert len(notifier.sent) == 2


def break_rules(tasks, tmp_path: Path) -> None:
    """Leave the rules directory with no valid rule set."""
    (tmp_path / "rules" / "w.yaml").write_text("watches: [{id: broken, any: 3}]\n")
    tasks.rt.rules.rules_dir = tmp_path / "rules"


def test_without_a_valid_rule_set_the_bulletin_stays_in_the_intake_and_retries(
    tasks, tmp_path: Path, monkeypatch
) -> None:
    import base64
    import json
    from datetime import timedelta

    class Retried(Exception):
        pass

    retries: list[dict[str, Any]] = []

    def retry(**kwargs: Any) -> Exception:
        retries.append(kwargs)
        return Retried()

    monkeypatch.setattr(tasks.ingest_bulletin, "retry", retry)
    break_rules(tasks, tmp_path)
    now = tasks.rt.clock()
    raw = json.dumps({"items": [{"id": "k1", "title": "Drones over Kaluga"}]}).encode()
    data = base64.b64encode(raw).decode()
    tasks.rt.intake.add(Accepted("b-1", "api", data, "application/json"), now)
    with pytest.raises(Retried):
        tasks.ingest_bulletin("api", data, "application/json", bulletin_id="b-1")
    assert retries == [{"countdown": tasks.RULES_RETRY_SECONDS}]
    assert tasks.calls == []  # no match task: the retry (and the intake) keep the items
    assert tasks.rt.seen.unseen(["k1"]) == ["k1"]
    assert tasks.rt.delivery.store.ledger.get(row_id("kaluga|k1|slack")) is None
    later = now + timedelta(hours=1)
    assert [b.id for b in tasks.rt.intake.due(later, later)] == ["b-1"]


def test_without_a_valid_rule_set_polled_items_wait_in_match_tasks(tasks, tmp_path) -> None:
    break_rules(tasks, tmp_path)

    def check(ids: list[str]) -> None:
        assert [len(a[0]) for kind, a in tasks.calls] == [3, 1]

    tasks.rt.seen.check = check
    polled = items("Drones over Kaluga", "a", "b", "c")
    assert poll_hand_on(tasks.services(), polled) == ["i0", "i1", "i2", "i3"]
    assert [kind for kind, _ in tasks.calls] == ["match", "match"]
    assert tasks.rt.seen.unseen(["i0", "i3"]) == []


def test_the_gc_is_frozen_once_per_new_rule_set(tasks, monkeypatch) -> None:
    runtime_mod = importlib.import_module("workers.runtime")
    frozen: list[int] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(1))  # as the rules watcher calls it
    first, _ = tasks.rt.current_rules()
    assert tasks.rt.current_rules()[0] is first
    assert frozen == [1]
    assert tasks.rt.redis.get(runtime_mod.RULES_STATUS_KEY)  # the status is still published


def test_an_ingested_bulletin_leaves_the_intake_and_a_lost_one_is_queued_again(tasks) -> None:
    import base64
    import json
    from datetime import timedelta

    now = tasks.rt.clock()
    raw = json.dumps({"items": [{"id": "k1", "title": "Drones over Kaluga"}]}).encode()
    data = base64.b64encode(raw).decode()
    intake = tasks.rt.intake
    intake.add(Accepted("done-1", "api", data, "application/json"), now)
    intake.add(Accepted("lost-1", "api", data, "application/json"), now)
    assert tasks.ingest_bulletin("api", data, "application/json", bulletin_id="done-1") == 1
    # The reconciler finds only the bulletin whose task never ran, and queues it again.
    assert tasks.reconcile() == 1
    again = ("api", data, "application/json", {"bulletin_id": "lost-1"})
    assert tasks.calls[-1] == ("ingest", again)
    assert intake.due(now + timedelta(seconds=1), now) == []  # woken again only much later


def test_the_rules_status_is_written_again_only_when_it_changes(tasks, monkeypatch) -> None:
    runtime_mod = importlib.import_module("workers.runtime")
    tasks.rt.current_rules()
    tasks.rt.redis.delete(runtime_mod.RULES_STATUS_KEY)
    tasks.rt.current_rules()  # same status, within the minute: no write
    assert tasks.rt.redis.get(runtime_mod.RULES_STATUS_KEY) is None
    status = tasks.rt.rules.status() | {"last_error": "boom"}
    monkeypatch.setattr(tasks.rt.rules, "status", lambda: status)
    tasks.rt.current_rules()
    written = tasks.rt.redis.get(runtime_mod.RULES_STATUS_KEY)
    assert written and b"boom" in written


def test_the_core_counts_the_brokers_error_as_an_outage(tasks: Any) -> None:
    """``bulletins.ingest_group`` passes an outage up rather than trying each bulletin on its
    own: the worker hands it kombu's error too (the core never imports kombu)."""
    from kombu.exceptions import OperationalError

    outages = tasks.services().outages
    assert OperationalError in outages and redis.ConnectionError in outages
