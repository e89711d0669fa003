"""Rule files read and split into watches and lists, and errors placed at ``file:line:col``.

``alerts.rules.loader`` compiles what these find; everything here is about the files themselves:
which are read, their YAML, and where in them a problem lies.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from alerts.hints import did_you_mean, keys_beside
from alerts.rules.compile import Report
from alerts.rules.errors import RuleError, display_path, quote
from alerts.rules.spec import RULE_KEYS, RulesFile, RuleSpec
from alerts.rules.yamlsafe import MAX_FILE_BYTES, Marks, Path_, YamlProblem, read_yaml

_FILE_KEYS = frozenset(RulesFile.model_fields)


@dataclass
class Source:
    """A rule file as shown in errors, and where each of its values lies."""

    shown: str
    marks: Marks


@dataclass
class Found:
    """A watch or a list as found in a file: its value and its path there."""

    src: Source
    prefix: Path_
    value: Any


class Errors(list[RuleError]):
    """The problems found so far, each at ``file:line:col``."""

    def at(self, src: Source, path: Path_, message: str, *, key: bool = False) -> None:
        """Record an error at the position of ``path`` (of its key when asked)."""
        line, col = src.marks.at(path, key=key)
        self.append(RuleError(src.shown, line, col, message))


def rule_files(rules_dir: Path) -> list[Path]:
    """The rule files of a directory (``*.yaml``, ``*.yml``), sorted by name."""
    return sorted(p for p in rules_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def inside(rules_dir: Path, path: Path) -> bool:
    """True when ``path`` (symlinks resolved) lies in ``rules_dir``: a link out is never read."""
    return path.resolve().is_relative_to(rules_dir.resolve())


def read_file(path: Path, rules_dir: Path, errors: Errors) -> bytes:
    """The file's bytes; b"" (and an error) for a link out, an oversized or unreadable file."""
    if not inside(rules_dir, path):
        errors.append(RuleError(display_path(path), 1, 1, "links outside the rules directory"))
        return b""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            errors.append(
                RuleError(display_path(path), 1, 1, f"file is larger than {MAX_FILE_BYTES} bytes")
            )
            return b""
        return path.read_bytes()
    except OSError as exc:
        errors.append(RuleError(display_path(path), 1, 1, f"cannot read: {exc.strerror}"))
        return b""


def split_file(path: Path, data: bytes, rules: list[Found], lists: list, errors: Errors) -> None:
    """Parse one file's YAML; add its watches to ``rules`` and its named lists to ``lists``."""
    shown = display_path(path)
    if not data:
        return
    try:
        value, marks = read_yaml(data)
    except YamlProblem as exc:
        errors.append(RuleError(shown, exc.line, exc.col, exc.message))
        return
    src = Source(shown, marks)
    if value is None:
        return
    if not isinstance(value, dict):
        errors.at(src, (), "a rule file must be a mapping (one watch, or 'watches:' and 'lists:')")
    elif "id" in value:
        rules.append(Found(src, (), value))
    else:
        for key in sorted(set(value) - _FILE_KEYS):
            hint = did_you_mean(key, _FILE_KEYS | RULE_KEYS)
            errors.at(src, (key,), f"unknown key {quote(key)}{hint}", key=True)
        _split_many(src, value, rules, lists, errors)


def _split_many(src: Source, value: dict, rules: list[Found], lists: list, errors: Errors) -> None:
    watches = value.get("watches", [])
    if not isinstance(watches, list):
        errors.at(src, ("watches",), "'watches' must be a list of watches")
        watches = []
    rules.extend(Found(src, ("watches", i), w) for i, w in enumerate(watches))
    named = value.get("lists", {})
    if not isinstance(named, dict):
        errors.at(src, ("lists",), "'lists' must map list names to lists of terms")
        named = {}
    lists.extend((Found(src, ("lists", name), entries), name) for name, entries in named.items())


def reporter(errors: Errors, f: Found) -> Report:
    """A ``Report`` placing a compile problem inside ``f``."""

    def report(path: Path_, message: str) -> None:
        errors.at(f.src, (*f.prefix, *path), message)

    return report


def spec_of(f: Found, errors: Errors) -> RuleSpec | None:
    """The validated watch, or None (its problems recorded)."""
    if not isinstance(f.value, dict):
        errors.at(f.src, f.prefix, "a watch must be a mapping")
        return None
    try:
        return RuleSpec.model_validate(f.value)
    except ValidationError as exc:
        pydantic_errors(exc, f, errors)
        return None


def check_channels(
    spec: RuleSpec, f: Found, channels: Collection[str] | None, errors: Errors
) -> None:
    """Every channel a watch notifies must be configured (``channels=None``: unchecked)."""
    if channels is None:
        return
    known = ", ".join(sorted(channels)) or "none configured"
    for i, name in enumerate(spec.notify.channels):
        if name not in channels:
            path = (*f.prefix, "notify", "channels", i)
            hint = did_you_mean(name, channels)
            errors.at(f.src, path, f"unknown channel {quote(name)}{hint or f' (known: {known})'}")


def pydantic_errors(
    exc: ValidationError, f: Found, errors: Errors, model: type[BaseModel] = RuleSpec
) -> None:
    """Each of pydantic's errors at its own position, with a hint for a mistyped key."""
    for err in exc.errors(include_url=False, include_input=False):
        loc = _loc(err["loc"])
        path = (*f.prefix, *loc)
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(str(loc[-1]), keys_beside(model, err["loc"]))
            errors.at(f.src, path, f"unknown key {quote(loc[-1])}{hint}", key=True)
        elif err["type"] == "missing":
            errors.at(f.src, path[:-1], f"missing key {quote(loc[-1])}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            name = _dotted(loc)
            errors.at(f.src, path, f"{name}: {msg[:1].lower()}{msg[1:]}" if name else msg)


def _loc(loc: tuple[Any, ...]) -> Path_:
    out: list[str | int] = []
    for part in loc:
        if part in ("text", "spec") and out and isinstance(out[-1], int):
            continue
        out.append(part)
    return tuple(out)


def _dotted(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
