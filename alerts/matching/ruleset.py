"""Loaded, frozen watches and the set they belong to."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from alerts.delivery.policy import NotifySpec
from alerts.matching.spec import ExamplesSpec
from alerts.matching.tree import Node

_SHARED: dict[object, object] = {}
_NO_EXAMPLES = ExamplesSpec()


def _shared(value: Any) -> Any:
    """One copy of each equal immutable value: many watches share notify settings and fields."""
    if len(_SHARED) > 10_000:
        _SHARED.clear()
    try:
        # Fields explicitly set count too: they show in model_dump(exclude_unset=True).
        explicit = getattr(value, "model_fields_set", None)
        key = (value, frozenset(explicit) if explicit is not None else None)
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
