"""The rule language: watch files as written (spec, YAML safety, queries, the ``notify:`` block),
checked and compiled to frozen rules and their boolean trees, with errors at ``path:line:col``.

It knows nothing of the engine that matches the rules: ``alerts.matching`` builds on it, and
hands the loader what only the engine can tell (a term's words, how examples behave).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.lazy import lazy_exports

if TYPE_CHECKING:
    from alerts.rules.errors import RuleError, RuleSetError
    from alerts.rules.notify import NotifySpec
    from alerts.rules.ruleset import Rule, RuleSet

__getattr__, __dir__ = lazy_exports(__name__)
__all__ = ["NotifySpec", "Rule", "RuleError", "RuleSet", "RuleSetError"]
