"""``ledger.row_json`` is ``DeliveryRow.model_dump_json`` byte for byte, its alert's part kept."""

from __future__ import annotations

import random
from datetime import timedelta

from alerts.delivery import ledger
from alerts.delivery.ledger import STATUSES, DeliveryRow, row_json
from alerts.models import Alert, Hit, Item
from tests.delivery.helpers import T0

TEXTS = ["Kaluga", 'a "quoted" \\ line\nnext', "Київ über 東京", "</script>", "\t\x00\x1f", ""]


def _alert(rng: random.Random, n: int) -> Alert:
    item = Item(
        id=f"item-{n}",
        source=rng.choice(["api", "feed-1"]),
        title=rng.choice(TEXTS) + f" {n}",
        body=" ".join(rng.choice(TEXTS) for _ in range(rng.randint(0, 30))),
        url=rng.choice([None, "https://example.org/a?b=1&c=ä"]),
        published=rng.choice([None, T0 - timedelta(minutes=n)]),
        language=rng.choice([None, "uk", "en"]),
    )
    hits = tuple(
        Hit(term=rng.choice(TEXTS), field="title", start=0, end=1, text="K")
        for _ in range(rng.randint(1, 3))
    )
    return Alert(
        watch=f"w{n % 7}",
        watch_name=rng.choice(TEXTS),
        item=item,
        hits=hits,
        clause=rng.choice(["", "any"]),
        channels=("slack", "ops")[: rng.randint(0, 2)],
    )


def test_row_json_is_model_dump_json_on_many_rows() -> None:
    """Every status, optional fields set and not, rows sharing an alert, alerts copied."""
    rng = random.Random(5)
    for n in range(400):
        alert = _alert(rng, n)
        if n % 5 == 0:
            alert = alert.model_copy(update={"watch_name": "copied"})
        row = DeliveryRow.new(alert, rng.choice(["slack", "ops"]), T0, wake_at=T0)
        for status in STATUSES:
            moved = row.moved(
                status,
                T0 + timedelta(seconds=n),
                attempts=rng.randint(0, 5),
                possible_duplicate=rng.random() < 0.3,
                story=rng.choice([None, alert.key]),
                thread_ref=rng.choice([None, "1700000000.000100"]),
                last_error=rng.choice(TEXTS),
                detail=rng.choice(TEXTS),
            )
            assert row_json(moved) == moved.model_dump_json()
        assert row_json(row) == row.model_dump_json()


def test_an_alert_at_a_reused_address_is_not_taken_for_the_kept_one() -> None:
    """An alert kept by id is used only while it is that very alert; a full memory starts over."""
    rng = random.Random(9)
    first = DeliveryRow.new(_alert(rng, 1), "slack", T0)
    assert row_json(first) == first.model_dump_json()
    other = DeliveryRow.new(_alert(rng, 2), "slack", T0)
    ledger._ALERT_JSON[id(other.alert)] = (first.alert, first.alert.model_dump_json())
    assert row_json(other) == other.model_dump_json()
    for n in range(3 * ledger._ALERTS_KEPT):
        row = DeliveryRow.new(_alert(rng, n), "ops", T0)
        assert row_json(row) == row.model_dump_json()
    assert len(ledger._ALERT_JSON) <= ledger._ALERTS_KEPT
