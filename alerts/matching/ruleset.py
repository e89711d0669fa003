"""Loaded, frozen watches and the set they belong to."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from alerts.delivery.policy import NotifySpec
from alerts.matching.spec import ExamplesSpec
from alerts.matching.tree import Node


@dataclass(frozen=True)
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
    examples: ExamplesSpec = field(default_factory=ExamplesSpec)
    path: str = ""
    line: int = 1

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
