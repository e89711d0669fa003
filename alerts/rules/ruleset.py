"""Loaded, frozen watches and the set they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from itertools import repeat
from typing import Any

from alerts.rules.notify import NotifySpec
from alerts.rules.spec import ExamplesSpec
from alerts.rules.tree import Node

_SHARED: dict[object, object] = {}
_NO_EXAMPLES = ExamplesSpec()


def _shared(value: Any) -> Any:
    """One copy of each equal immutable value: many watches share notify settings and fields."""
    if len(_SHARED) > 10_000:
        _SHARED.clear()
    fields = getattr(value, "__dict__", None)
    if fields is None:
        key = value
    else:
        # isinstance(v, datetime) for each value, called from C (once per watch).
        if any(map(isinstance, fields.values(), repeat(datetime))):
            return value  # equal instants in other time zones would dump differently
        # A model's key is its field values and which were set explicitly (they show in
        # model_dump(exclude_unset=True)), hashed and compared in C rather than by pydantic.
        key = (type(value), *fields.items(), *sorted(value.model_fields_set))
    try:
        return _SHARED.setdefault(key, value)
    except TypeError:  # unhashable: keep this one
        return value


@dataclass(frozen=True, slots=True)
class Rule:
    """One compiled watch: what to look for, where, and whom to tell."""

    id: str
    name: str
    notify: NotifySpec
    tree: Node
    fields: frozenset[str]
    sources: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    description: str = ""
    examples: ExamplesSpec = _NO_EXAMPLES
    path: str = ""
    line: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "notify", _shared(self.notify))
        object.__setattr__(self, "fields", _shared(self.fields))

    @property
    def clause(self) -> str:
        """The whole condition in query syntax."""
        return self.tree.render()

    def accepts(self, source: str, language: str | None) -> bool:
        """Whether the source and language filters let an item through."""
        if self.sources and source not in self.sources:
            return False
        if not self.languages:
            return True
        lang = (language or "").lower().split("-")[0]
        return lang in self.languages


@dataclass(frozen=True)
class RuleSet:
    """Every enabled watch, in a stable order, with the content hash of the files."""

    rules: tuple[Rule, ...]
    version: str

    @cached_property
    def _by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def get(self, rule_id: str) -> Rule:
        """The rule with this id (KeyError when absent); a dict lookup, once per match."""
        return self._by_id[rule_id]
