"""The matcher's Hits and Matches (``made``: no validation, as ``model_construct``) are exactly
what validation makes of the same values."""

from __future__ import annotations

import pickle

from pydantic import BaseModel

from alerts.matching.made import new_hit, new_match
from alerts.models import Hit, Match

HIT = {
    "term": "Kaluga",
    "field": "body",
    "start": 3,
    "end": 9,
    "text": "Калуге",
    "how": ("transliterated", "inflected"),
}
MATCH = {"watch": "w1", "item_id": "i1", "ruleset_version": "v7", "clause": "Kaluga"}


def _same(made: BaseModel, validated: BaseModel) -> None:
    assert type(made) is type(validated)
    assert made == validated
    assert hash(made) == hash(validated)
    assert made.model_dump() == validated.model_dump()
    assert made.model_dump(mode="json") == validated.model_dump(mode="json")
    assert made.model_dump_json() == validated.model_dump_json()
    assert made.model_fields_set == validated.model_fields_set
    assert pickle.loads(pickle.dumps(made)) == validated
    # A field added to the model but not to ``made`` would be missing here.
    assert set(made.__dict__) == set(type(made).model_fields)
    assert set(validated.__dict__) == set(type(validated).model_fields)


def test_new_hit_is_the_validated_hit() -> None:
    _same(new_hit(**HIT), Hit.model_validate(HIT))


def test_new_match_is_the_validated_match() -> None:
    made = new_match(**MATCH, hits=(new_hit(**HIT),))
    _same(made, Match.model_validate({**MATCH, "hits": (HIT,)}))


def test_a_made_match_round_trips_through_json() -> None:
    made = new_match(**MATCH, hits=(new_hit(**HIT),))
    assert Match.model_validate_json(made.model_dump_json()) == made


def test_each_value_has_its_own_fields_set() -> None:
    # model_fields_set is the value's own set: one shared by every value would change them all.
    assert new_hit(**HIT).model_fields_set is not new_hit(**HIT).model_fields_set
    made = (new_match(**MATCH, hits=()), new_match(**MATCH, hits=()))
    assert made[0].model_fields_set is not made[1].model_fields_set
