"""Every YAML example in docs/rules.md loads and its examples pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from tests.conftest import ROOT

DOC = ROOT / "docs" / "rules.md"
BLOCKS = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_doc_has_examples() -> None:
    assert len(BLOCKS) >= 12


@pytest.mark.parametrize("block", BLOCKS, ids=[f"example{i}" for i in range(len(BLOCKS))])
def test_doc_example_loads_and_its_examples_pass(tmp_path: Path, block: str) -> None:
    (tmp_path / "example.yaml").write_text(block, encoding="utf-8")
    ruleset = load_ruleset(tmp_path)
    assert ruleset.rules
    assert any(r.examples.match or r.examples.no_match for r in ruleset.rules)
