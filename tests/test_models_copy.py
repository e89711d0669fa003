"""``Frozen.model_copy``'s one-step shallow copy, and ``DeliveryRow.new``'s row made without
validation, are exactly what pydantic's own copy and validation make."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationError

from alerts.delivery.ledger import DeliveryRow
from alerts.matching import _kept
from alerts.models import Alert, Frozen, Hit, Item, constructed

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


class _Later(datetime):
    """A datetime of another type: validated (as before), not set as it is."""


def test_a_new_row_is_what_validation_makes() -> None:
    """``DeliveryRow.new`` sets the values it was given as validation would keep them: the same
    values in the same order, fields set, dumps and hash; values of other types are
    validated (a datetime subclass made a datetime, a wrong value refused)."""
    (row, *_) = _rows()
    alert = row.alert
    for wake in (None, T0, _Later(2026, 12, 7, tzinfo=UTC)):
        for now in (T0, _Later(2026, 12, 6, tzinfo=UTC)):
            made = DeliveryRow.new(alert, "ops", now, wake)
            validated = DeliveryRow(
                id=made.id, key=made.key, watch="w1", item_id="i1", channel="ops",
                status="pending", created_at=now, updated_at=now, wake_at=wake, alert=alert,
            )  # fmt: skip
            assert made == validated
            assert list(made.__dict__) == list(validated.__dict__)
            assert [type(v) for v in made.__dict__.values()] == [
                type(v) for v in validated.__dict__.values()
            ]
            assert made.__pydantic_fields_set__ == validated.__pydantic_fields_set__
            assert made.__pydantic_extra__ is None and made.__pydantic_private__ is None
            assert hash(made) == hash(validated)
            assert made.model_dump_json() == validated.model_dump_json()
    with pytest.raises(ValidationError):
        DeliveryRow.new(alert, "ops", "not a time")  # type: ignore[arg-type]


def test_an_alert_is_what_validation_makes() -> None:
    """``build_alerts`` makes each alert without validation when its values are of the exact
    types its fields hold: equal to the validated alert in every way; other values (a list of
    hits, a str subclass) are validated as before, a wrong one refused."""

    class Name(str):
        """A str of another type."""

    row, *_ = _rows()
    kept = row.alert.model_dump()
    values = {**dict(row.alert), "ruleset_version": "v1"}
    assert _kept(values)
    for changed in ({}, {"hits": list(row.alert.hits)}, {"watch_name": Name("W")}):
        given = {**values, **changed}
        made_one = constructed(Alert, dict(given), set(given)) if _kept(given) else Alert(**given)
        validated = Alert(**given)
        assert made_one == validated
        assert list(made_one.__dict__) == list(validated.__dict__)
        assert made_one.__pydantic_fields_set__ == validated.__pydantic_fields_set__
        assert hash(made_one) == hash(validated)
        assert made_one.model_dump_json() == validated.model_dump_json()
        assert made_one.model_dump() == {**kept, "ruleset_version": "v1"}
    assert not _kept({**values, "hits": list(row.alert.hits)})
    assert not _kept({**values, "channels": (Name("ops"),)})
    with pytest.raises(ValidationError):
        Alert(**{**values, "hits": ("not a hit",)})


def test_a_model_with_extras_is_copied_by_pydantic() -> None:
    """A Frozen model that allows extras (none of ours does) is copied by pydantic's own
    ``model_copy``: an unknown key of the update goes among its extras."""

    class Open(Frozen):
        model_config = ConfigDict(frozen=True, extra="allow")
        a: int = 0

    ours = Open(a=1).model_copy(update={"a": 2, "b": 3})
    theirs = BaseModel.model_copy(Open(a=1), update={"a": 2, "b": 3})
    assert ours.__pydantic_extra__ == theirs.__pydantic_extra__ == {"b": 3}
    assert ours.__dict__ == theirs.__dict__ == {"a": 2}


class _Private(Frozen):
    """A frozen model with a private value that has no default (its store starts empty)."""

    name: str = "x"
    _note: str = PrivateAttr()


def test_a_model_with_private_values_is_copied_by_pydantic() -> None:
    model = _Private()
    assert model.model_copy() == BaseModel.model_copy(model) == model


def test_a_long_alerts_json_is_not_kept() -> None:
    from alerts.delivery import ledger

    item = Item(id="i2", source="s", title="t", body="x" * (ledger._ALERT_KEPT_BYTES + 1))
    alert = Alert(watch="w1", watch_name="W", item=item, hits=(), channels=("ops",))
    assert ledger.alert_json(alert) == alert.model_dump_json().encode()
    assert id(alert) not in ledger._ALERTS
