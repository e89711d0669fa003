"""Lazy package exports (PEP 562): a package names its API without importing it all at start.

``alerts ingest`` needs the settings, not the delivery pipeline or the notifiers behind them;
importing those eagerly made a 7 ms POST take about 2 s to start. A package lists its exports
once, as imports under ``if TYPE_CHECKING:`` (so type checkers see them), and calls
``lazy_exports``, which reads that block and imports each name the first time it is used.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _exports(source: str) -> dict[str, str]:
    """Name -> module for every ``from M import N`` inside ``if TYPE_CHECKING:``."""
    out: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:
                    out.update({a.asname or a.name: stmt.module for a in stmt.names})
    return out


def lazy_exports(package: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` (call it from the package itself)."""
    module = sys.modules[package]
    exports = _exports(Path(str(module.__file__)).read_text(encoding="utf-8"))

    def getattr_(name: str) -> Any:
        where = exports.get(name)
        if where is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where), name)
        setattr(module, name, value)  # later look-ups no longer come here
        return value

    def dir_() -> list[str]:
        return sorted({*module.__dict__, *exports})

    return getattr_, dir_
