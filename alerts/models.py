"""Frozen values that flow through the pipeline: Item -> Match -> Alert.

Messages between tasks are these models dumped with ``model_dump(mode="json")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

FIELDS = ("title", "body", "summary", "url", "source")


class Frozen(BaseModel):
    """Base for immutable values: unknown keys are errors, instances are hashable."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """``BaseModel.model_copy``. A shallow copy (a row moved on, an item dated: several an
        alert) is made in one step: the fields (``update`` over them, not validated), the
        fields set, no extras or private values, as pydantic's ``__copy__`` and update make
        it, without the calls they take per part."""
        private = getattr(self, "__pydantic_private__", None)
        extras = type(self).model_config.get("extra") == "allow" or self.__pydantic_extra__
        if deep or private is not None or extras:  # private values or extras: pydantic's own
            return super().model_copy(update=update, deep=deep)
        values = self.__dict__.copy()
        fields_set = set(self.__pydantic_fields_set__)
        if update:
            values.update(update)
            fields_set.update(update)
        return constructed(type(self), values, fields_set)


M = TypeVar("M", bound=BaseModel)
_new = object.__new__
# Through the slots' own descriptors, bound once (as ``matching.made`` sets them).
_set_values = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def assert_unvalidated(cls: type[BaseModel]) -> None:
    """``constructed`` makes ``cls`` as validation would only while no validator or post-init
    of ours runs on it: checked where a module relies on that, at import."""
    assert not cls.__pydantic_decorators__.field_validators, cls
    assert not cls.__pydantic_decorators__.model_validators, cls
    assert cls.model_post_init is BaseModel.model_post_init, cls


def constructed(cls: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """An instance of ``cls`` holding ``values`` (every field, in the fields' order), as
    ``model_construct`` makes one, without validation: no extras, no private values, the
    fields ``fields_set`` given. For values validation would keep as they are."""
    model = _new(cls)
    _set_values(model, values)
    _set_fields_set(model, fields_set)
    _set_extra(model, None)
    _set_private(model, None)
    made_model: M = model
    return made_model


class Item(Frozen):
    """One news item split out of a bulletin or feed, normalised at ingest."""

    id: str = Field(description="Stable id: feed GUID, else normalised URL, else content hash.")
    source: str = Field(
        description="Id of the source it came from (a feed id, 'api', a file name)."
    )
    title: str
    body: str = ""
    summary: str = ""
    url: str | None = None
    published: datetime | None = None
    language: str | None = Field(
        default=None, description="ISO 639-1 code in lower case ('uk'), as ingest normalised it."
    )
    language_source: Literal["declared", "detected"] | None = Field(
        default=None,
        description="Whether the language was declared (feed, page, source) or detected.",
    )

    def field_text(self, name: str) -> str:
        """The text of one matchable field ('' when absent)."""
        if name not in FIELDS:
            raise KeyError(name)
        value = getattr(self, name)
        return value or ""


class Hit(Frozen):
    """One matched term: offsets point into the original, un-normalised field text."""

    term: str
    field: str
    start: int
    end: int
    text: str
    how: tuple[str, ...] = Field(
        default=(),
        description="How it was found: exact, inflected, transliterated, other_spelling, compound.",
    )

    def found_as(self) -> str:
        """The hit as explanations read it: 'Kaluga → «Калуге» (transliterated, inflected)'."""
        how = ", ".join(k.replace("_", " ") for k in self.how)
        return f"{self.term} → «{self.text}»" + (f" ({how})" if how else "")


class Match(Frozen):
    """A watch that fired on an item, with the evidence."""

    watch: str
    item_id: str
    ruleset_version: str = ""
    clause: str = Field(default="", description="The clause that fired, readable.")
    hits: tuple[Hit, ...] = ()


class Alert(Frozen):
    """What gets delivered: one (watch, item) pair, rendered per channel later."""

    watch: str
    watch_name: str
    item: Item
    hits: tuple[Hit, ...]
    clause: str = ""
    ruleset_version: str = ""
    channels: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """Identity of the alert, independent of the channel."""
        return f"{self.watch}|{self.item.id}"

    def delivery_key(self, channel: str) -> str:
        """Identity of one delivery: (watch, item, channel)."""
        return f"{self.watch}|{self.item.id}|{channel}"


class DigestEntry(Frozen):
    """One story in a digest: its first alert and how many alerts it gathered."""

    story: str
    alert: Alert
    count: int = 1


class Digest(Frozen):
    """Alerts held back (digest mode, throttle overflow, quiet hours) and sent as one message."""

    watch: str
    watch_name: str
    channel: str
    entries: tuple[DigestEntry, ...]
    total: int = Field(description="Number of alerts the digest holds; equals sum of counts.")
    reason: str = Field(default="digest", description="digest | throttled | quiet_hours")
