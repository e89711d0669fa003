"""The multilingual quality corpus loads, its labels name real watches, and the bench runs on it.

No quality floor is asserted here: ``bench/quality.py`` prints the figures.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT

KINDS = {
    "plain", "inflection", "alternation", "script", "orthography", "w_u", "compound",
    "apostrophe", "surname_gender", "sense", "decoy", "headline",
}  # fmt: skip


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quality_bench", ROOT / "bench" / "quality.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


BENCH = _bench()


def test_the_corpus_is_large_and_multilingual() -> None:
    texts = BENCH.load_texts()
    per_lang = Counter(t.lang for t in texts)
    assert len(texts) >= 300
    assert len(per_lang) >= 10
    assert min(per_lang.values()) >= 25
    assert {t.kind for t in texts} <= KINDS


def test_about_a_third_of_each_language_is_held_out() -> None:
    texts = BENCH.load_texts()
    for lang in {t.lang for t in texts}:
        mine = [t for t in texts if t.lang == lang]
        share = sum(t.split == "holdout" for t in mine) / len(mine)
        assert 0.25 <= share <= 0.4, (lang, share)


def test_every_label_names_a_watch_and_ids_are_unique() -> None:
    assert BENCH.check_labels(BENCH.load_texts(), BENCH.load_watches()) == []


def test_a_third_of_the_texts_are_decoys_or_partial() -> None:
    texts = BENCH.load_texts()
    decoys = [t for t in texts if not t.match or t.kind in ("decoy", "sense", "surname_gender")]
    assert len(decoys) >= len(texts) / 3
    assert sum(not t.match for t in texts) >= len(texts) / 5


@pytest.mark.parametrize("flags", [["--misses"], ["--declared", "--loaded-only"]])
def test_the_bench_runs_and_writes_its_figures(tmp_path: Path, flags: list[str]) -> None:
    out = tmp_path / "quality.json"
    assert BENCH.main(["--json", str(out), *flags]) == 0
    figures = json.loads(out.read_text())
    for split in ("dev", "holdout", "all"):
        row = figures[split]["lang"]["all"]
        assert set(row) >= {"texts", "ours", "whole-word", "substring"}
        assert row["texts"] > 0
