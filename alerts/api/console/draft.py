"""A draft watch written in the playground: loaded as the rules directory would load it."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from alerts.matching import load_ruleset
from alerts.rules import RuleSet, RuleSetError
from alerts.rules.errors import RuleError, display_path
from alerts.rules.loader import rule_files
from alerts.rules.yamlsafe import Path_, YamlProblem, read_yaml

DRAFT_NAME = "draft.yaml"


@dataclass(frozen=True)
class Draft:
    """A loaded draft, or its errors as ``line:col: message`` (never both)."""

    ruleset: RuleSet | None
    errors: tuple[str, ...] = ()


def _shown(error: RuleError) -> str:
    return f"{error.line}:{error.col}: {error.message}"


def load_draft(text: str, *, channels: Collection[str]) -> Draft:
    """Load ``text`` as one rule file (examples run, channels checked)."""
    if not text.strip():
        return Draft(None, ("1:1: the draft is empty: write a watch (id, any/all/query, notify)",))
    with tempfile.TemporaryDirectory(prefix="alerts-draft-") as tmp:
        Path(tmp, DRAFT_NAME).write_text(text, encoding="utf-8")
        try:
            ruleset = load_ruleset(Path(tmp), channels=channels)
        except RuleSetError as exc:
            return Draft(None, tuple(_shown(e) for e in exc.errors))
    if not ruleset.rules:
        return Draft(None, ("1:1: the draft holds no enabled watch",))
    return Draft(ruleset)


def save_draft(text: str, rules_dir: Path, *, channels: Collection[str]) -> tuple[Path | None, str]:
    """Write a valid draft as ``<first watch id>.yaml`` when the whole directory still loads.

    Returns (the path written, None on refusal) and a message for the page.
    """
    draft = load_draft(text, channels=channels)
    if draft.ruleset is None:
        return None, "the draft has errors: " + "; ".join(draft.errors)
    name = f"{draft.ruleset.rules[0].id}.yaml"
    with tempfile.TemporaryDirectory(prefix="alerts-save-") as tmp:
        for path in rule_files(rules_dir):
            shutil.copy(path, Path(tmp, path.name))
        Path(tmp, name).write_text(text, encoding="utf-8")
        try:
            load_ruleset(Path(tmp), channels=channels)
        except RuleSetError as exc:
            found = "; ".join(str(e).replace(tmp, str(rules_dir)) for e in exc.errors)
            return None, f"with the other rule files: {found}"
    target = rules_dir / name
    fd, partial = tempfile.mkstemp(prefix=".console-", suffix=".tmp", dir=rules_dir)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(partial, target)  # the workers never read a half-written file
    return target, f"saved {target}"


@dataclass(frozen=True)
class Disabled:
    """A watch switched off with ``enabled: false`` (the rule set does not hold it)."""

    id: str
    name: str
    where: str


def disabled_watches(rules_dir: Path) -> list[Disabled]:
    """The watches of the rule files marked ``enabled: false``; unreadable files are skipped."""
    found: list[Disabled] = []
    for path in rule_files(rules_dir) if rules_dir.is_dir() else []:
        try:
            value, marks = read_yaml(path.read_bytes())
        except (OSError, YamlProblem):
            continue
        single = isinstance(value, dict) and "id" in value
        entries: list[tuple[Path_, object]] = [((), value)] if single else _listed(value)
        for at, watch in entries:
            if isinstance(watch, dict) and watch.get("enabled") is False:
                line, _ = marks.at(at)
                name = str(watch.get("name") or watch.get("id"))
                found.append(Disabled(str(watch.get("id")), name, f"{display_path(path)}:{line}"))
    return found


def _listed(value: object) -> list[tuple[Path_, object]]:
    watches = value.get("watches") if isinstance(value, dict) else None
    return [(("watches", i), w) for i, w in enumerate(watches)] if isinstance(watches, list) else []
