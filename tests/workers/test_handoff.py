"""The core hand-on (``alerts.handoff``) over memory fakes: no Celery, no Redis."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts import handoff
from alerts.clock import FrozenClock
from alerts.delivery.ledger import DeliveryRow, row_id
from alerts.ingest.dedup import MemoryItemArchive, MemorySeenStore
from alerts.matching.reload import RulesWatcher
from alerts.models import Item
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from alerts.rules import RuleSetError
from tests.delivery.helpers import T0, make_alert, make_deps
from tests.support.seen import CheckBeforeMark


class CheckingSeen(CheckBeforeMark, MemorySeenStore):
    """A seen store that runs ``check`` just before items are marked seen."""


def setup(tmp_path: Path, **sizes: int) -> tuple[handoff.Handoff, list[Any], Any]:
    """A Handoff over memory fakes recording its enqueue calls, and a rules callable."""
    rules = tmp_path / "rules"
    rules.mkdir()
    watch = {"id": "kaluga", "any": ["kaluga"], "notify": {"channels": ["ops", "slack"]}}
    (rules / "w.yaml").write_text(yaml.safe_dump({"watches": [watch]}), encoding="utf-8")
    queued: list[Any] = []
    h = handoff.Handoff(
        seen=CheckingSeen(),
        archive=MemoryItemArchive(),
        delivery=make_deps(),
        clock=FrozenClock(T0),
        enqueue=lambda alert, channel, later: queued.append((alert.item.id, channel, later)),
        **sizes,
    )
    watcher = RulesWatcher(rules, channels=["ops", "slack"], clock=FrozenClock(T0))
    return h, queued, watcher.current


def kaluga(n: int) -> list[Item]:
    return [Item(id=f"k{i}", source="t", title=f"Drones over Kaluga {i}") for i in range(n)]


def test_every_chunk_is_recorded_pending_before_the_items_are_seen(tmp_path: Path) -> None:
    h, queued, rules = setup(tmp_path, match_batch=2, inline=1)
    ledger = h.delivery.store.ledger

    def check(ids: list[str]) -> None:
        assert ids == [f"k{i}" for i in range(5)] and queued == []
        for i in range(5):
            for channel in ("ops", "slack"):
                assert ledger.get(row_id(f"kaluga|k{i}|{channel}")).status == "pending"

    h.seen.check = check
    assert handoff.hand_on(kaluga(5), rules, h) == [f"k{i}" for i in range(5)]
    assert len(h.delivery.notifier.sent) == 1 and len(queued) == 9  # inline 1, the rest queued
    assert all(later is None for _, _, later in queued)


def test_no_valid_rule_set_leaves_everything_untouched(tmp_path: Path) -> None:
    h, queued, _ = setup(tmp_path)

    def no_rules() -> Any:
        raise RuleSetError([])

    with pytest.raises(RuleSetError):
        handoff.hand_on(kaluga(3), no_rules, h)
    assert h.seen.unseen(["k0", "k1", "k2"]) == ["k0", "k1", "k2"] and queued == []
    assert h.delivery.store.ledger.get(row_id("kaluga|k0|ops")) is None


def test_parked_items_are_queued_in_batches_before_they_are_seen(tmp_path: Path) -> None:
    h, _, _ = setup(tmp_path, match_batch=2)
    batches: list[list[str]] = []

    def check(ids: list[str]) -> None:
        assert [[i.id for i in b] for b in batches] == [["k0", "k1"], ["k2"]]

    h.seen.check = check
    assert handoff.park(kaluga(3), h, lambda b: batches.append(b)) == ["k0", "k1", "k2"]
    assert len(batches) == 2 and h.seen.unseen(["k2"]) == []


class SlowNotifier(RecordingNotifier):
    """Each send takes ``seconds`` of the handoff's clock (a slow or hanging channel)."""

    def __init__(self, clock: FrozenClock, seconds: float) -> None:
        super().__init__()
        self.clock, self.seconds = clock, seconds

    def send(self, channel: str, content: Any, *, reply_to: str | None = None) -> SendResult:
        self.clock.advance(seconds=self.seconds)
        return super().send(channel, content, reply_to=reply_to)


def test_a_slow_channel_holds_the_match_step_up_for_one_send_only(tmp_path: Path) -> None:
    """Past ``inline_budget`` seconds of inline sends, the rest go to delivery tasks."""
    h, queued, rules = setup(tmp_path, inline=4)
    h = replace(h, inline_budget=2.0)
    h.delivery.notifier = SlowNotifier(h.clock, 2.5)  # type: ignore[arg-type]
    handoff.hand_on(kaluga(2), rules, h)
    assert len(h.delivery.notifier.sent) == 1 and len(queued) == 3  # 4 deliveries, 1 inline
    assert h.delivery.store.ledger.get(row_id("kaluga|k0|ops")).status == "sent"
    assert all(h.delivery.store.ledger.get(row_id(f"kaluga|{i}|{ch}")).status == "pending"
               for i, ch in (("k0", "slack"), ("k1", "ops"), ("k1", "slack")))  # fmt: skip


def test_within_the_budget_every_inline_delivery_is_sent_once(tmp_path: Path) -> None:
    h, queued, rules = setup(tmp_path, inline=4)
    h.delivery.notifier = SlowNotifier(h.clock, 0.1)  # type: ignore[arg-type]
    apart = [  # two stories: a follow-up would wait for the digest
        Item(id="k0", source="t", title="Drones over Kaluga at night"),
        Item(id="k1", source="t", title="Kaluga governor opens a new bridge across the Oka"),
    ]
    handoff.hand_on(apart, rules, h)
    sent = [(ch, alert.item.id) for ch, alert, _ in h.delivery.notifier.sent]
    assert sorted(sent) == [("ops", "k0"), ("ops", "k1"), ("slack", "k0"), ("slack", "k1")]
    assert queued == []


def test_only_rows_the_write_inserted_count_as_new() -> None:
    rows = [DeliveryRow.new(make_alert(n), "ops", T0) for n in range(2)]
    found = rows[1].moved("sent", T0)  # the write found this one recorded before
    assert handoff.inserted_ids(rows, [rows[0], found]) == {rows[0].id}
