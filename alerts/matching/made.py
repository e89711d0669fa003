"""Hits and Matches as the matcher makes them, unvalidated (as ``model_construct``), at C speed.

Compiled by mypyc with the evaluator, and held by tests/matching/test_made.py to what
validation makes of the same values. Called from compiled code, a classmethod of a pydantic
model is looked up through the model's metaclass (its ``__getattr__`` hook), runs an
interpreted frame and sets each slot through ``object.__setattr__``: about 11,500
instructions a value (callgrind), 38% of ``Matcher.match`` at 100k watches. Here the slots
are set through their own descriptors, bound once: about 5,000."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from alerts.models import Hit, Match

_new: Final[Any] = object.__new__
_SLOTS: Final = BaseModel.__dict__
# What model_construct sets on every model: its values, the fields set, no extra, no private.
_set_values: Final[Any] = _SLOTS["__dict__"].__set__
_set_fields_set: Final[Any] = _SLOTS["__pydantic_fields_set__"].__set__
_set_extra: Final[Any] = _SLOTS["__pydantic_extra__"].__set__
_set_private: Final[Any] = _SLOTS["__pydantic_private__"].__set__
_HIT: Final[Any] = Hit
_MATCH: Final[Any] = Match
_HIT_FIELDS: Final = frozenset(("term", "field", "start", "end", "text", "how"))
_MATCH_FIELDS: Final = frozenset(("watch", "item_id", "ruleset_version", "clause", "hits"))


def new_hit(term: str, field: str, start: int, end: int, text: str, how: tuple[str, ...]) -> Hit:
    """The Hit ``Hit.trusted`` makes of the same values."""
    hit = _new(_HIT)
    _set_values(
        hit, {"term": term, "field": field, "start": start, "end": end, "text": text, "how": how}
    )
    _set_fields_set(hit, set(_HIT_FIELDS))
    _set_extra(hit, None)
    _set_private(hit, None)
    made: Hit = hit
    return made


def new_match(
    watch: str, item_id: str, ruleset_version: str, clause: str, hits: tuple[Hit, ...]
) -> Match:
    """The Match ``Match.trusted`` makes of the same values."""
    match = _new(_MATCH)
    values = {
        "watch": watch,
        "item_id": item_id,
        "ruleset_version": ruleset_version,
        "clause": clause,
        "hits": hits,
    }
    _set_values(match, values)
    _set_fields_set(match, set(_MATCH_FIELDS))
    _set_extra(match, None)
    _set_private(match, None)
    made: Match = match
    return made
