"""The JSON Schema of rule files, for editor autocompletion (``alerts rules schema``)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from alerts.rules.spec import RulesFile, RuleSpec


def rules_schema() -> dict[str, Any]:
    """A JSON Schema accepting one watch per file, or ``watches:`` and ``lists:``."""
    schema = TypeAdapter(RuleSpec | RulesFile).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "bulletin-alerts watch rules",
        **schema,
    }
