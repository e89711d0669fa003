"""``Hit.trusted`` and ``Match.trusted`` build exactly what validation would."""

from __future__ import annotations

import pickle

from pydantic import BaseModel

from alerts.models import Hit, Match

HIT = {
    "term": "Kaluga",
    "field": "body",
    "start": 3,
    "end": 9,
    "text": "Калуге",
    "how": ("transliterated", "inflected"),
}


def _hits() -> tuple[Hit, Hit]:
    return Hit.trusted(**HIT), Hit.model_validate(HIT)


def _matches() -> tuple[Match, Match]:
    values = {
        "watch": "w1",
        "item_id": "i1",
        "ruleset_version": "v7",
        "clause": "Kaluga",
        "hits": (Hit.model_validate(HIT),),
    }
    trusted = Match.trusted(**{**values, "hits": (Hit.trusted(**HIT),)})
    return trusted, Match.model_validate(values)


def _same(trusted: BaseModel, validated: BaseModel) -> None:
    assert type(trusted) is type(validated)
    assert trusted == validated
    assert hash(trusted) == hash(validated)
    assert trusted.model_dump() == validated.model_dump()
    assert trusted.model_dump(mode="json") == validated.model_dump(mode="json")
    assert trusted.model_dump_json() == validated.model_dump_json()
    assert trusted.model_fields_set == validated.model_fields_set
    assert pickle.loads(pickle.dumps(trusted)) == validated
    # A field added to the model but not to ``trusted`` would be missing here.
    assert set(trusted.__dict__) == set(type(trusted).model_fields)
    assert set(validated.__dict__) == set(type(validated).model_fields)


def test_hit_trusted_equals_validated() -> None:
    _same(*_hits())


def test_match_trusted_equals_validated() -> None:
    _same(*_matches())


def test_trusted_round_trips_through_json() -> None:
    trusted, _ = _matches()
    assert Match.model_validate_json(trusted.model_dump_json()) == trusted
