"""Helpers for rules-engine tests: write rule files, make items."""

from __future__ import annotations

import textwrap
from pathlib import Path

from alerts.matching import Matcher, load_ruleset
from alerts.models import Item
from alerts.rules import RuleSet


def write_rules(directory: Path, **files: str) -> Path:
    """Write dedented rule files (name -> YAML text) into a directory and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("__", ".")).write_text(textwrap.dedent(text), encoding="utf-8")
    return directory


def ruleset_of(directory: Path, yaml_text: str) -> RuleSet:
    """Load a rule set made of one file."""
    return load_ruleset(write_rules(directory, rules__yaml=yaml_text))


def item(title: str = "", body: str = "", **kw: str) -> Item:
    """A test item with an id derived from its text."""
    return Item(
        id=kw.pop("id", title or body or "x"),
        source=kw.pop("source", "test"),
        title=title,
        body=body,
        **kw,
    )


def fired(matcher: Matcher, it: Item) -> list[str]:
    """Ids of the watches that fire on an item."""
    return [m.watch for m in matcher.match(it)]


def term_fires(directory: Path, term: str, text: str, language: str) -> bool:
    """Whether a watch of one term (``any: [term]``) fires on ``text`` declared ``language``."""
    write_rules(directory, w__yaml=f"id: w\nany: ['{term}']\nnotify: {{channels: [e]}}\n")
    matcher = Matcher(load_ruleset(directory))
    return fired(matcher, item(text, language=language, language_source="declared")) == ["w"]
