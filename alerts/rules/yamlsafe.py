"""Strict YAML reading with positions: safe tags only, no aliases, a size cap.

Each value's line and column are kept in a ``Marks`` table keyed by the value's path
(``("watches", 0, "any", 2)``), so later stages can point at the exact spot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from alerts.rules.errors import quote

MAX_FILE_BYTES = 1024 * 1024
Path_ = tuple[str | int, ...]
_SCALAR_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp")
}
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class YamlProblem(Exception):
    """A YAML document that cannot be read, with a 1-based position."""

    def __init__(self, line: int, col: int, message: str) -> None:
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


@dataclass
class Marks:
    """Positions of values (and of mapping keys) by path."""

    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Path_, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` (its key when asked), else of the nearest ancestor."""
        table = self.keys if key else self.values
        for cut in range(len(path), -1, -1):
            sub = path[:cut]
            if sub in table:
                return table[sub]
            if sub in self.values:
                return self.values[sub]
        return (1, 1)


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses aliases, so no alias bomb can expand."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose a node, refusing aliases."""
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            mark = event.start_mark
            raise YamlProblem(mark.line + 1, mark.column + 1, "YAML aliases are not allowed")
        return super().compose_node(parent, index)


def read_yaml(data: bytes) -> tuple[Any, Marks]:
    """Parse one YAML document into plain values and their positions, or raise YamlProblem."""
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(1, 1, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(1, 1, f"file is not UTF-8 (byte {exc.start})") from None
    try:
        loader = _Loader(text)  # checks every character up front
    except yaml.reader.ReaderError as exc:  # a NUL or other control byte: no mark of its own
        line, col = _line_col(text, exc.position)
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        raise YamlProblem(line, col, f"control character U+{code:04X} is not allowed") from None
    try:
        node = loader.get_single_node()
        marks = Marks()
        value = _convert(loader, node, (), marks) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlProblem(line, col, f"invalid YAML: {plain_words(exc)}") from None
    except yaml.YAMLError:  # any other reader failure: still a located error, never a traceback
        raise YamlProblem(1, 1, "invalid YAML") from None
    except RecursionError:
        raise YamlProblem(1, 1, "YAML is nested too deeply") from None
    finally:
        loader.dispose()
    return value, marks


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


# The YAML library's wording, as a user who writes rule files would say it.
_PLAIN = (
    (
        "mapping values are not allowed",
        "unexpected ':' (is this line indented too far, or does a value with ': ' need quotes?)",
    ),
    ("found '<block mapping start>'", "this line is not indented like the lines above it"),
    ("but found '-'", "a list item ('- ') where a key was expected: check the indentation"),
    ("expected <block end>", "this line is not indented like the lines above it"),
    ("'\\t' that cannot start", "a tab: indent with spaces"),
    (
        "could not find expected ':'",
        "expected 'key: value' (a ':' missing, or the indentation is off)",
    ),
    ("expected ',' or ']'", "a list opened with '[' is not closed with ']'"),
    ("expected ',' or '}'", "a mapping opened with '{' is not closed with '}'"),
    ("end of stream", "the file ends inside a quoted string: a quote is not closed"),
)


def plain_words(exc: yaml.MarkedYAMLError) -> str:
    """The problem of a YAML error in words a user knows (the library's when none fits)."""
    raw = f"{exc.context or ''} {exc.problem or ''}"
    for needle, words in _PLAIN:
        if needle in raw:
            return words
    return str(exc.problem or exc.context)


def _pos(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(loader: _Loader, node: yaml.Node, path: Path_, marks: Marks) -> Any:
    marks.values[path] = _pos(node)
    if isinstance(node, yaml.ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            raise YamlProblem(*_pos(node), f"YAML tag {node.tag!r} is not allowed")
        if node.tag.endswith(":timestamp"):
            return node.value
        return loader.construct_object(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ_TAG:
            raise YamlProblem(*_pos(node), f"YAML tag {node.tag!r} is not allowed")
        return [_convert(loader, child, (*path, i), marks) for i, child in enumerate(node.value)]
    if node.tag != _MAP_TAG:
        raise YamlProblem(*_pos(node), f"YAML tag {node.tag!r} is not allowed")
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            raise YamlProblem(*_pos(key_node), "mapping keys must be plain strings")
        key = key_node.value
        if key in out:
            raise YamlProblem(*_pos(key_node), f"duplicate key {quote(key)}")
        marks.keys[(*path, key)] = _pos(key_node)
        out[key] = _convert(loader, value_node, (*path, key), marks)
    return out
