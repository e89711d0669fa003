"""``bulletins.ingest_group`` when its joint hand-on fails: before the write, each bulletin not
done goes on its own (the failing one left in the intake, its error returned); after the write,
or on an outage, the error is raised as it is and nothing goes on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from alerts.ingest.intake import Accepted
from alerts.models import Item
from alerts.rules import RuleSetError
from alerts.usecases import bulletins
from alerts.usecases.bulletins import Posted
from alerts.usecases.context import Parsed, Services
from tests.delivery.helpers import T0
from tests.usecases.test_usecases import services


def group(s: Services, *titles: str, big: int = 0) -> list[Posted]:
    """One bulletin ``b<n>`` of one item per title, in the intake; ``big`` items more in b0."""
    posted = []
    for n, title in enumerate(titles):
        extra = [f"Filler {k}" for k in range(big)] if n == 0 else []
        items = [Item(id=f"b{n}-{k}", source="api", title=t) for k, t in enumerate([title, *extra])]
        s.intake.add(Accepted(f"b{n}", "api", "", "application/json"), T0)  # type: ignore[union-attr]
        posted.append(Posted("api", f"b{n}", "application/json", Parsed(items, "json")))
    return posted


def alone(monkeypatch: pytest.MonkeyPatch, failing: str = "b1") -> list[str]:
    """The bulletins ingested on their own from now on; ``failing`` raises ValueError."""
    ingested: list[str] = []
    ingest = bulletins.ingest_bulletin

    def one(s: Services, source: str, b64: str, ctype: Any, bid: str, parsed: Any) -> list[str]:
        if bid == failing:
            raise ValueError(f"bad bulletin {bid}")
        ingested.append(bid)
        return ingest(s, source, b64, ctype, bid, parsed)

    monkeypatch.setattr(bulletins, "ingest_bulletin", one)
    return ingested


def failing_hand_on(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    """The joint hand-on raises ``error`` before its write."""

    def hand_on(*_: Any) -> int:
        raise error

    monkeypatch.setattr(bulletins, "_hand_on_group", hand_on)


def test_before_the_write_each_goes_on_its_own_and_the_first_error_is_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = services(tmp_path)
    posted = group(s, "Drones over Kaluga", "Explode", "Kaluga again")
    failing_hand_on(monkeypatch, ValueError("matching exploded"))
    ingested = alone(monkeypatch)
    new, failed = bulletins.ingest_group(s, posted)
    assert (new, str(failed)) == (2, "bad bulletin b1")
    assert ingested == ["b0", "b2"]
    assert set(s.intake.items) == {"b1"}  # type: ignore[union-attr]


def test_a_bulletin_done_before_the_failure_is_not_ingested_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = services(tmp_path, ingest_chunk=2)
    posted = group(s, "Kaluga", "Explode", "Kaluga again", big=2)  # b0: 3 items, on its own
    ingested = alone(monkeypatch)
    failing_hand_on(monkeypatch, ValueError("matching exploded"))
    new, failed = bulletins.ingest_group(s, posted)
    assert (new, str(failed)) == (3, "bad bulletin b1")  # b0's first chunk, b2's item
    assert ingested == ["b0", "b2"]  # b0 once, before the joint hand-on
    assert s.queues.calls == [("bulletin", ("api", "b0"))]  # type: ignore[attr-defined]


def test_after_the_write_the_error_is_raised_and_nothing_goes_on_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = services(tmp_path)
    posted = group(s, "Drones over Kaluga", "Kaluga again")
    ingested = alone(monkeypatch, failing="none")

    def saw_new(*_: Any) -> None:
        raise RuntimeError("after the write")

    monkeypatch.setattr(bulletins.source_health, "saw_new", saw_new)
    with pytest.raises(RuntimeError, match="after the write"):
        bulletins.ingest_group(s, posted)
    assert ingested == []
    assert s.intake.items == {}  # type: ignore[union-attr]  # released by the joint write
    assert s.seen.unseen(["b0-0", "b1-0"]) == []


@pytest.mark.parametrize(
    "error", [redis.ConnectionError("gone"), redis.TimeoutError("slow"), RuleSetError([])]
)
def test_an_outage_or_no_rule_set_passes_up_without_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    s = services(tmp_path)
    posted = group(s, "Drones over Kaluga", "Kaluga again")
    ingested = alone(monkeypatch, failing="none")
    failing_hand_on(monkeypatch, error)
    with pytest.raises(type(error)):
        bulletins.ingest_group(s, posted)
    assert ingested == []
    assert set(s.intake.items) == {"b0", "b1"}  # type: ignore[union-attr]


def test_an_outage_of_the_callers_kind_passes_up_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokerGone(Exception):
        pass

    s = services(tmp_path)
    s = Services(**{**s.__dict__, "outages": (BrokerGone,)})
    posted = group(s, "Drones over Kaluga", "Kaluga again")
    failing_hand_on(monkeypatch, BrokerGone())
    ingested = alone(monkeypatch, failing="none")
    with pytest.raises(BrokerGone):
        bulletins.ingest_group(s, posted)
    assert ingested == []


@pytest.mark.parametrize("error", [redis.ConnectionError("gone"), RuleSetError([])])
def test_an_outage_or_no_rule_set_in_the_fallback_passes_up_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    """The joint hand-on fails (a bad item, say), then b0 on its own meets an outage or no
    rule set: raised as it is (the task retries it), b1 never tried, both left in the intake."""
    s = services(tmp_path)
    posted = group(s, "Drones over Kaluga", "Kaluga again")
    failing_hand_on(monkeypatch, ValueError("matching exploded"))
    tried: list[str] = []

    def one(*args: Any) -> list[str]:
        tried.append(args[4])
        raise error

    monkeypatch.setattr(bulletins, "ingest_bulletin", one)
    with pytest.raises(type(error)):
        bulletins.ingest_group(s, posted)
    assert tried == ["b0"]
    assert set(s.intake.items) == {"b0", "b1"}  # type: ignore[union-attr]
