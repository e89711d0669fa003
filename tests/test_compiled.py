"""The matcher's compiled parts: built where CI requires them, and never older than their source.

An in-place build that is older than its ``.py`` would shadow the edited module (Python
imports the extension first): ``make`` rebuilds it, and this test says so when it did not.
"""

from __future__ import annotations

import ast
import importlib
import os
from pathlib import Path

import pytest

MODULES = ["scan", "evaluate", "matcher", "index", "guard", "anchors", "termkeys", "made"]


def _module(name: str) -> object:
    return importlib.import_module(f"alerts.matching.{name}")


@pytest.mark.parametrize("name", MODULES)
def test_a_compiled_module_is_not_older_than_its_source(name: str) -> None:
    path = Path(_module(name).__file__ or "")
    if path.suffix != ".so":
        pytest.skip(f"{name} runs as Python")
    source = path.parent / f"{name}.py"
    assert path.stat().st_mtime >= source.stat().st_mtime, (
        f"{path.name} is older than {source.name}: run `make venv` to rebuild it"
    )


def test_everything_is_compiled_where_ci_requires_it() -> None:
    if os.environ.get("ALERTS_REQUIRE_EXTENSION") != "1":
        pytest.skip("ALERTS_REQUIRE_EXTENSION is not set")
    built = [n for n in MODULES if Path(_module(n).__file__ or "").suffix == ".so"]
    assert built == MODULES
    assert importlib.import_module("alerts.matching._wordkeys")
    assert importlib.import_module("alerts.ingest._langwalk")
    assert importlib.import_module("alerts.delivery._minhash")  # OpenSSL's headers were there


def test_the_modules_checked_are_the_ones_setup_compiles() -> None:
    setup = Path(__file__).resolve().parent.parent / "setup.py"
    assigned = next(
        n.value
        for n in ast.walk(ast.parse(setup.read_text()))
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "MYPYC_MODULES"
    )
    compiled = [Path(ast.literal_eval(e)).stem for e in assigned.elts]  # type: ignore[attr-defined]
    assert sorted(compiled) == sorted(MODULES)
