"""Source health checks over memory fakes and a frozen clock: alert once, then recover once."""

from __future__ import annotations

from alerts import source_health
from alerts.clock import FrozenClock
from alerts.handoff import Handoff
from alerts.ingest.dedup import MemoryItemArchive, MemorySeenStore
from alerts.ingest.health import MemoryHealthStore, SourceHealthSettings
from alerts.ingest.settings import SourceSettings
from alerts.ingest.state import MemorySourceStateStore, after_failure, after_success
from alerts.models import Item
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_deps

WIRE = SourceSettings(id="wire", kind="rss", url="https://example.org/feed")
CONF = SourceHealthSettings(channel="ops", failures=2, quiet_after=3600)


def setup() -> tuple[Handoff, FrozenClock, RecordingNotifier, MemorySourceStateStore]:
    clock = FrozenClock(T0)
    notifier = RecordingNotifier()
    h = Handoff(
        seen=MemorySeenStore(),
        archive=MemoryItemArchive(),
        delivery=make_deps(notifier=notifier, clock=clock),
        clock=clock,
        enqueue=lambda alert, channel, later: None,
    )
    return h, clock, notifier, MemorySourceStateStore()


def titles(notifier: RecordingNotifier) -> list[str]:
    return [content.item.title for _, content, _ in notifier.sent]  # type: ignore[union-attr]


def test_failures_alert_once_then_a_good_poll_recovers() -> None:
    h, clock, notifier, states = setup()
    health = MemoryHealthStore()

    def check() -> list[str]:
        found = source_health.check([WIRE], CONF, states=states, health=health, h=h)
        return [n.kind for n in found]

    state = after_failure(states.get("wire"), T0, interval=60, error="HTTP 500")
    states.put("wire", state)
    assert check() == []  # one failure is below the limit
    states.put("wire", after_failure(state, T0, interval=60, error="HTTP 500"))
    assert check() == ["failing"]
    assert check() == []  # still failing: said once
    clock.advance(seconds=600)
    good = after_success(states.get("wire"), clock(), source_id="wire", interval=60, jitter=0,
                         items=1, etag=None, last_modified=None)  # fmt: skip
    states.put("wire", good)
    assert check() == ["recovered"]
    assert titles(notifier) == ["Source wire is failing", "Source wire has recovered"]
    assert all(channel == "ops" for channel, _, _ in notifier.sent)


def test_a_quiet_source_alerts_and_new_items_recover_it() -> None:
    h, clock, notifier, states = setup()
    health = MemoryHealthStore()
    check = lambda: source_health.check([WIRE], CONF, states=states, health=health, h=h)  # noqa: E731
    assert check() == []  # first sight: the quiet clock starts now
    clock.advance(seconds=3599)
    assert check() == []
    clock.advance(seconds=2)
    assert [n.kind for n in check()] == ["quiet"]
    source_health.saw_new([Item(id="a", source="wire", title="t")], health, clock(), ["wire"])
    assert [n.kind for n in check()] == ["recovered"]
    assert titles(notifier) == ["Source wire has gone quiet", "Source wire has recovered"]


def test_a_repeated_notice_is_sent_once_by_the_ledger() -> None:
    h, _, notifier, states = setup()
    health = MemoryHealthStore()
    states.put("wire", states.get("wire").model_copy(update={"consecutive_failures": 5}))
    source_health.check([WIRE], CONF, states=states, health=health, h=h)
    health.put("wire", health.get("wire").model_copy(update={"open": None, "incident": 0}))
    source_health.check([WIRE], CONF, states=states, health=health, h=h)  # a crash replayed
    assert titles(notifier) == ["Source wire is failing"]


def test_no_ops_channel_means_no_checks() -> None:
    h, _, notifier, states = setup()
    states.put("wire", states.get("wire").model_copy(update={"consecutive_failures": 9}))
    off = SourceHealthSettings()
    assert source_health.check([WIRE], off, states=states, health=MemoryHealthStore(), h=h) == []
    assert notifier.sent == []
