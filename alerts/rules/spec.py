"""The rule file language as pydantic models: strict, and the source of the JSON Schema."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from alerts.rules.confidence import How
from alerts.rules.notify import NotifySpec

FieldName = Literal["title", "body", "summary", "url", "source"]
DEFAULT_FIELDS: tuple[FieldName, ...] = ("title", "summary", "body")
RULE_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_WITHIN = 50


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TermSpec(_Strict):
    """A term written as a mapping: exactly one of ``term``, ``regex`` or ``list``."""

    term: str | None = Field(default=None, description="A word or phrase; 'word*' is a prefix.")
    regex: str | None = Field(default=None, description="An RE2 pattern, case-insensitive.")
    list: str | None = Field(default=None, description="The name of a term list (lists:).")
    exact: bool | None = Field(default=None, description="No transliteration or inflection.")
    fields: tuple[FieldName, ...] | None = Field(default=None, description="Fields to search.")

    @model_validator(mode="after")
    def _one_kind(self) -> TermSpec:
        kinds = [k for k in ("term", "regex", "list") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a term needs exactly one of 'term', 'regex' or 'list'")
        return self


def _entry_kind(value: Any) -> str:
    return "spec" if isinstance(value, dict | TermSpec) else "text"


# A number written bare in YAML (a year: 2003) is the term as written: str(value), a bool
# refused, by pydantic itself (no Python call per entry of a 100k-watch load).
TermEntry = Annotated[
    Annotated[str, Field(coerce_numbers_to_str=True), Tag("text")]
    | Annotated[TermSpec, Tag("spec")],
    Discriminator(_entry_kind),
]


class ExampleSpec(_Strict):
    """A short made-up item for an example; a plain string fills title, summary and body."""

    title: str = ""
    body: str = ""
    summary: str = ""
    url: str | None = None
    source: str = "example"
    language: str | None = None


ExampleEntry = Annotated[
    Annotated[str, Tag("text")] | Annotated[ExampleSpec, Tag("spec")],
    Discriminator(_entry_kind),
]


class ExamplesSpec(_Strict):
    """Texts the watch must match and must not match; checked before any load succeeds."""

    match: tuple[ExampleEntry, ...] = ()
    no_match: tuple[ExampleEntry, ...] = ()


class NotNearSpec(_Strict):
    """Words whose neighbourhood does not count: an occurrence this close to one is dropped."""

    terms: tuple[TermEntry, ...] = Field(min_length=1, description="Words or phrases.")
    within: int = Field(ge=1, le=MAX_WITHIN, description="Words between them, at most.")

    @model_validator(mode="before")
    @classmethod
    def _a_mapping(cls, value: Any) -> Any:
        if not isinstance(value, dict | NotNearSpec):
            raise ValueError("a mapping is expected: {terms: [word, ...], within: N}")
        return value


class RuleSpec(_Strict):
    """One watch, as written in a rule file."""

    id: str = Field(pattern=RULE_ID, description="Unique across all rule files.")
    name: str | None = Field(default=None, description="Readable name; defaults to the id.")
    description: str = ""
    any: tuple[TermEntry, ...] = Field(default=(), description="At least one must occur.")
    all: tuple[TermEntry, ...] = Field(default=(), description="Every one must occur.")
    none: tuple[TermEntry, ...] = Field(default=(), description="None may occur.")
    query: str | None = Field(default=None, description="Lucene-style query, ANDed with the rest.")
    fields: tuple[FieldName, ...] = Field(default=DEFAULT_FIELDS, min_length=1)
    sources: tuple[str, ...] = Field(default=(), description="Only items from these sources.")
    languages: tuple[str, ...] = Field(default=(), description="Only items in these languages.")
    exact: bool = Field(default=False, description="Default for terms: no translit/inflection.")
    not_near: NotNearSpec | None = Field(
        default=None, description="Occurrences near these words do not count."
    )
    min_confidence: How | None = Field(
        default=None, description="Only hits found at least this confidently count."
    )
    surname_gender: Literal["same", "any"] = Field(
        default="same", description="'any': a surname also finds its other gender's form."
    )
    letter_case: Literal["names", "any"] = Field(
        default="names",
        description="'names': a capitalised term counts only where the item writes it as a "
        "name, a lower-case word not where it is capitalised inside a sentence; 'any': case "
        "is ignored.",
    )
    notify: NotifySpec
    examples: ExamplesSpec = ExamplesSpec()
    enabled: bool = True


class RulesFile(_Strict):
    """A file holding several watches and/or named term lists."""

    watches: tuple[RuleSpec, ...] = ()
    lists: dict[str, tuple[TermEntry, ...]] = Field(default_factory=dict)


RULE_KEYS = frozenset(RuleSpec.model_fields)
