"""The matcher's Hits and Matches (``made``) are what ``Hit.trusted`` and ``Match.trusted`` make."""

from __future__ import annotations

from alerts.matching.made import new_hit, new_match
from alerts.models import Hit, Match
from tests.test_models_trusted import HIT, _same

MATCH = {"watch": "w1", "item_id": "i1", "ruleset_version": "v7", "clause": "Kaluga"}


def test_new_hit_is_the_trusted_and_the_validated_hit() -> None:
    made = new_hit(**HIT)
    _same(made, Hit.model_validate(HIT))
    _same(made, Hit.trusted(**HIT))


def test_new_match_is_the_trusted_and_the_validated_match() -> None:
    made = new_match(**MATCH, hits=(new_hit(**HIT),))
    _same(made, Match.model_validate({**MATCH, "hits": (HIT,)}))
    _same(made, Match.trusted(**MATCH, hits=(Hit.trusted(**HIT),)))


def test_each_value_has_its_own_fields_set() -> None:
    # model_fields_set is the value's own set: one shared by every value would change them all.
    assert new_hit(**HIT).model_fields_set is not new_hit(**HIT).model_fields_set
    made = (new_match(**MATCH, hits=()), new_match(**MATCH, hits=()))
    assert made[0].model_fields_set is not made[1].model_fields_set
