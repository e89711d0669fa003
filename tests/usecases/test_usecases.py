"""The use cases over memory fakes and recorded queues: no Celery, no Redis."""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.clock import FrozenClock
from alerts.delivery.ledger import DeliveryRow, row_id
from alerts.ingest import parse_bulletin
from alerts.ingest.dedup import MemoryItemArchive, MemorySeenStore
from alerts.ingest.fetch import Fetcher
from alerts.ingest.intake import Accepted, MemoryIntake
from alerts.ingest.state import MemorySourceStateStore, SourceState
from alerts.matching.reload import RulesWatcher
from alerts.models import Item
from alerts.rules import RuleSetError
from alerts.settings import Settings
from alerts.usecases import bulletins, upkeep
from alerts.usecases.context import MemoryLocks, Parsed, Services
from tests.delivery.helpers import T0, make_alert, make_deps


@dataclass
class RecordedQueues:
    """``Queues`` that write down what would have been queued."""

    calls: list[tuple[str, Any]] = field(default_factory=list)

    def delivery(self, alert, channel, countdown):
        self.calls.append(("deliver", (alert.item.id, channel, countdown)))

    def match(self, batch):
        self.calls.append(("match", [i.id for i in batch]))

    def bulletin(self, source, content_b64, content_type, bulletin_id, parsed=None):
        self.calls.append(("bulletin", (source, bulletin_id)))
        self.parsed = parsed

    def poll(self, source_id):
        self.calls.append(("poll", source_id))


def services(tmp_path: Path, *, rules: bool = True, **worker: Any) -> Services:
    """Services over memory fakes, one watch on 'kaluga' (or a broken rules directory)."""
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    watch = {"id": "kaluga", "any": ["kaluga"], "notify": {"channels": ["ops"]}}
    text = yaml.safe_dump({"watches": [watch]}) if rules else "watches: [{id: x, any: 3}]\n"
    (folder / "w.yaml").write_text(text, encoding="utf-8")
    clock = FrozenClock(T0)
    sources = [{"id": "feed", "kind": "rss", "url": "https://example.org/feed"}]
    settings = Settings(channels={"ops": ["console://"]}, worker=worker, sources=sources)
    return Services(
        settings=settings,
        seen=MemorySeenStore(),
        archive=MemoryItemArchive(),
        delivery=make_deps(clock=clock),
        clock=clock,
        rules=RulesWatcher(folder, channels=["ops"], clock=clock).current,
        fetcher=Fetcher(),
        source_state=MemorySourceStateStore(),
        queues=RecordedQueues(),
        locks=MemoryLocks(),
        intake=MemoryIntake(),
    )


def bulletin(*titles: str) -> str:
    items = [{"id": f"k{n}", "title": t} for n, t in enumerate(titles)]
    return base64.b64encode(json.dumps({"items": items}).encode()).decode()


def ids(data: str) -> list[str]:
    """The item ids a bulletin gives (feed ids are hashed)."""
    raw = base64.b64decode(data)
    return [i.id for i in parse_bulletin(raw, source="api", content_type="application/json")]


def test_a_bulletin_is_matched_sent_and_dropped_from_the_intake(tmp_path) -> None:
    s = services(tmp_path)
    data = bulletin("Drones over Kaluga", "Mild weather")
    s.intake.add(Accepted("b1", "api", data, "application/json"), T0)
    kaluga, weather = ids(data)
    got = bulletins.ingest_bulletin(s, "api", data, "application/json", "b1")
    assert got == [kaluga, weather]
    assert s.delivery.store.ledger.get(row_id(f"kaluga|{kaluga}|ops")).status == "sent"
    assert s.seen.unseen(got) == [] and s.intake.items == {}
    assert s.queues.calls == []


def test_a_bulletin_past_the_chunk_queues_a_follow_up_and_stays_in_the_intake(tmp_path) -> None:
    s = services(tmp_path, ingest_chunk=2)
    data = bulletin("Kaluga one", "Kaluga two", "Kaluga three")
    s.intake.add(Accepted("b1", "api", data, "application/json"), T0)
    one, two, three = ids(data)
    assert bulletins.ingest_bulletin(s, "api", data, "application/json", "b1") == [one, two]
    assert s.queues.calls == [("bulletin", ("api", "b1"))]
    assert s.intake.items["b1"][1] == T0 + timedelta(seconds=900)  # past the follow-up
    # The follow-up hands on the rest and drops the bulletin.
    assert bulletins.ingest_bulletin(s, "api", data, "application/json", "b1") == [three]
    assert s.intake.items == {}


def test_an_unreadable_bulletin_is_dropped_and_a_missing_rule_set_passes_up(tmp_path) -> None:
    s = services(tmp_path)
    bad = base64.b64encode(b"{not json").decode()
    s.intake.add(Accepted("b1", "api", bad, "application/json"), T0)
    assert bulletins.ingest_bulletin(s, "api", bad, "application/json", "b1") == []
    assert s.intake.items == {}
    (tmp_path / "x").mkdir()
    broken = services(tmp_path / "x", rules=False)
    data = bulletin("Kaluga")
    with pytest.raises(RuleSetError):
        bulletins.ingest_bulletin(broken, "api", data, "application/json", "b2")
    assert broken.seen.unseen(ids(data)) == ids(data)  # nothing remembered: the retry finds it


def test_polled_items_without_rules_are_parked_in_match_batches(tmp_path) -> None:
    s = services(tmp_path, rules=False, match_batch=2)
    items = [Item(id=f"i{n}", source="feed", title="Kaluga") for n in range(3)]
    assert bulletins.poll_hand_on(s, items) == ["i0", "i1", "i2"]
    assert s.queues.calls == [("match", ["i0", "i1"]), ("match", ["i2"])]
    with pytest.raises(RuleSetError):
        bulletins.match_items(s, items)


def test_due_sources_are_polled_once_while_their_lock_is_held(tmp_path) -> None:
    s = services(tmp_path)
    assert upkeep.poll_due_sources(s) == 1
    assert upkeep.poll_due_sources(s) == 0  # the first poll still holds the lock
    assert s.queues.calls == [("poll", "feed")]
    s.source_state.put("feed", SourceState(next_poll_at=T0 + timedelta(minutes=5)))
    s.locks.drop("feed")
    assert upkeep.poll_due_sources(s) == 0  # not due yet


def test_reconcile_requeues_stale_deliveries_and_lost_bulletins(tmp_path) -> None:
    s = services(tmp_path)
    alert = make_alert(watch="kaluga")
    row = DeliveryRow.new(alert, "ops", T0).model_copy(update={"wake_at": T0})
    s.delivery.store.ledger.save(row)
    s.intake.add(Accepted("b9", "api", bulletin("x"), None), T0)
    assert upkeep.reconcile(s) == 2
    assert s.queues.calls == [("deliver", ("item-1", "ops", None)), ("bulletin", ("api", "b9"))]


def test_items_the_api_parsed_are_not_parsed_again(tmp_path, monkeypatch) -> None:
    s = services(tmp_path, ingest_chunk=1)
    data = bulletin("Kaluga one", "Kaluga two")
    raw = base64.b64decode(data)
    items = parse_bulletin(raw, source="api", content_type="application/json")
    monkeypatch.setattr("alerts.item_steps.parse_bulletin_as", None)  # a parse would raise
    parsed = Parsed(items, "json")
    got = bulletins.ingest_bulletin(s, "api", "", "application/json", "b1", parsed=parsed)
    assert got == [items[0].id]
    assert s.queues.calls == [("bulletin", ("api", "b1"))] and s.queues.parsed is parsed
    assert bulletins.ingest_bulletin(s, "api", "", "application/json", "b1", parsed) == [
        items[1].id
    ]


def test_an_item_the_api_parsed_and_seen_before_gets_nothing_again(tmp_path) -> None:
    # One chunk of API-parsed items: the seen check is made by the write (write, check=True).
    s = services(tmp_path)
    raw = base64.b64decode(bulletin("Drones over Kaluga"))
    parsed = Parsed(parse_bulletin(raw, source="api", content_type="application/json"), "json")
    (kaluga,) = bulletins.ingest_bulletin(s, "api", "", "application/json", "b1", parsed)
    rid = row_id(f"kaluga|{kaluga}|ops")
    assert s.delivery.store.ledger.get(rid).status == "sent"
    del s.delivery.store.ledger.rows[rid]  # as if its row had expired: only "seen" stops it
    s.intake.add(Accepted("b2", "api", "", "application/json"), T0)
    assert bulletins.ingest_bulletin(s, "api", "", "application/json", "b2", parsed) == []
    assert s.delivery.store.ledger.get(rid) is None and s.intake.items == {}


def test_a_group_is_one_hand_on_and_a_big_bulletin_of_it_goes_on_its_own(
    tmp_path, monkeypatch
) -> None:
    s = services(tmp_path, ingest_chunk=2)
    group = []
    for n, titles in enumerate([("Drones over Kaluga",), ("Kaluga", "x", "y"), ("Kaluga two",)]):
        items = [Item(id=f"b{n}-{k}", source="api", title=t) for k, t in enumerate(titles)]
        parsed = Parsed(items, "json")
        s.intake.add(Accepted(f"b{n}", "api", "", "application/json"), T0)
        group.append(bulletins.Posted("api", f"b{n}", "application/json", parsed))
    hands: list[int] = []
    hand_on = bulletins.handoff.hand_on

    def counting(items, *args, **kwargs):  # type: ignore[no-untyped-def]
        hands.append(len(items))
        return hand_on(items, *args, **kwargs)

    monkeypatch.setattr(bulletins.handoff, "hand_on", counting)
    # b1 (three items, a chunk of two) alone: two of its items, a follow-up for the rest
    assert bulletins.ingest_group(s, group) == (4, None)
    assert hands == [2, 2]  # b1's first chunk, then b0 and b2 together
    assert set(s.intake.items) == {"b1"}  # kept for its follow-up; b0 and b2 released
    assert s.queues.calls == [("bulletin", ("api", "b1"))]


def test_the_hand_on_waits_for_the_configured_http_timeout_at_most_per_send(tmp_path) -> None:
    """Held finishes are written before a send that could take them past half a lease: the
    slowest send is the configured HTTP timeout, connect and read (not the default's)."""
    s = services(tmp_path)
    assert s.handoff().send_seconds == 2 * s.settings.notify.http_timeout
    slow = dataclasses.replace(s, settings=Settings(notify={"http_timeout": 30}))
    assert slow.handoff().send_seconds == 60
