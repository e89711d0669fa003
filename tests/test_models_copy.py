"""``Frozen.model_copy``'s one-step shallow copy is exactly what pydantic's own makes."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

from pydantic import BaseModel

from alerts.delivery.ledger import DeliveryRow
from alerts.models import Alert, Hit, Item

T0 = datetime(2026, 12, 6, 20, 0, tzinfo=UTC)


def _rows() -> list[DeliveryRow]:
    item = Item(id="i1", source="s", title="Kaluga", body="b")
    hit = Hit(term="Kaluga", field="title", start=0, end=6, text="Kaluga")
    alert = Alert(watch="w1", watch_name="W", item=item, hits=(hit,), channels=("ops",))
    row = DeliveryRow.new(alert, "ops", T0)
    return [row, row.moved("sending", T0, attempts=1), DeliveryRow.model_construct(**dict(row))]


def test_a_copy_is_pydantics_copy() -> None:
    """Values, fields set, extras, private values, equality, hash, dumps, pickling; with and
    without an update (unknown keys go into the values unvalidated, as pydantic puts them),
    and a deep copy (pydantic's own)."""
    updates = [None, {}, {"status": "sent", "sent_at": T0}, {"detail": "x", "unknown": 1}]
    for row in _rows():
        for update in updates:
            for deep in (False, True):
                ours = row.model_copy(update=update, deep=deep)
                theirs = BaseModel.model_copy(row, update=update, deep=deep)
                assert type(ours) is type(theirs)
                assert ours.__dict__ == theirs.__dict__
                assert list(ours.__dict__) == list(theirs.__dict__)  # the dump's order
                assert ours.__pydantic_fields_set__ == theirs.__pydantic_fields_set__
                assert ours.__pydantic_extra__ == theirs.__pydantic_extra__
                assert ours.__pydantic_private__ == theirs.__pydantic_private__
                assert ours == theirs
                if "unknown" not in (update or {}):
                    assert hash(ours) == hash(theirs)
                    assert ours.model_dump_json() == theirs.model_dump_json()
                    assert pickle.loads(pickle.dumps(ours)) == ours
                assert ours.__dict__ is not row.__dict__
                assert ours.__pydantic_fields_set__ is not row.__pydantic_fields_set__
        assert copy.copy(row) == row
