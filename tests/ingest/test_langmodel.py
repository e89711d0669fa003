"""``ScriptModel``, the twin kept for speed, gives py3langid's own answers and odds."""

from __future__ import annotations

import copy
import functools
import math
from pathlib import Path

import pytest
import yaml

from alerts.ingest.langmodel import MAX_LOGIT, ScriptModel, load_identifier
from alerts.ingest.language import CYRILLIC, LATIN

TEXTS = Path(__file__).resolve().parents[2] / "bench" / "langid_texts.yaml"


@functools.cache
def _texts() -> list[str]:
    """Our headlines and paragraphs in 15 languages, a few cut short or in upper case."""
    found = [
        text
        for parts in yaml.safe_load(TEXTS.read_text(encoding="utf-8")).values()
        for texts in parts.values()
        for text in texts
    ]
    return [*found, *(t.upper() for t in found[::7]), *(t[:12] for t in found[::5]), "", "42 %"]


@functools.cache
def _pair(script: str) -> tuple[ScriptModel, object]:
    """Ours and py3langid's identifier, each restricted to the script's languages."""
    langs = CYRILLIC if script == "cyrillic" else LATIN
    full = load_identifier()
    theirs = copy.copy(full)
    theirs.set_languages(sorted(langs))
    return ScriptModel(full, langs), theirs


@pytest.mark.parametrize("script", ["latin", "cyrillic"])
def test_best_is_py3langids_answer(script: str) -> None:
    ours, theirs = _pair(script)
    answers = [(ours.best(t), theirs.classify(t)[0]) for t in _texts()]  # type: ignore[attr-defined]
    assert [a for a, _ in answers] == [b for _, b in answers]
    assert len({a for a, _ in answers}) > 1  # not one language for every text


def _probability(logit: float) -> float:
    return 1 / (1 + math.exp(-logit))


def test_logit_is_py3langids_odds() -> None:
    # Compared as probabilities: py3langid's are float32, so near 0 or 1 their odds are coarse.
    ours, theirs = _pair("cyrillic")
    for text in _texts():
        found, prob = theirs.classify(text)  # type: ignore[attr-defined]
        p_uk = min(max(prob if found == "uk" else 1.0 - prob, 1e-6), 1 - 1e-6)
        assert _probability(ours.logit(text, "uk", "ru")) == pytest.approx(p_uk, abs=1e-5), text
        assert _probability(ours.logit(text, "ru", "uk")) == pytest.approx(1 - p_uk, abs=1e-5)


def test_logit_is_held_within_the_probability_bounds() -> None:
    ours = ScriptModel(load_identifier(), CYRILLIC)
    ours.prior[ours.langs.index("ru")] += 1e4  # odds no 200-byte sample reaches
    assert ours.logit("Президенты обсудили гарантии", "ru", "uk") == MAX_LOGIT
    assert ours.logit("Президенты обсудили гарантии", "uk", "ru") == -MAX_LOGIT


def test_no_feature_means_no_preference() -> None:
    ours, theirs = _pair("latin")
    assert ours.best("") == theirs.classify("")[0]  # type: ignore[attr-defined]
    assert _pair("cyrillic")[0].logit("", "uk", "ru") == 0.0


def test_a_language_the_model_lacks_is_refused() -> None:
    with pytest.raises(ValueError, match="are not"):
        ScriptModel(load_identifier(), {"en", "xx"})


def test_the_c_scores_are_the_python_ones() -> None:
    # The C sum is in double, numpy's in float32: equal to float32's precision.
    from alerts.ingest.langmodel import model_bytes

    ours, _ = _pair("latin")
    if ours.native is None:
        pytest.skip("alerts.ingest._langwalk is not built")
    for text in [*_texts(), "ł€😀 \x00\xff"]:
        data = model_bytes(text)
        found, expected = ours.scores(data), ours.scores_py(data)
        if expected is None:
            assert found is None
            continue
        assert found == pytest.approx([float(x) for x in expected], rel=1e-5, abs=1e-3), text
    assert ours.scores(b"") is None


def test_the_c_scores_refuse_tables_of_another_type() -> None:
    from array import array

    import numpy as np

    ours, _ = _pair("latin")
    if ours.native is None:
        pytest.skip("alerts.ingest._langwalk is not built")
    nextmove, rowbase, output, table, prior = ours.tables
    with pytest.raises(TypeError):
        ours.native(list(nextmove[:10]), rowbase, output, table, prior, b"abc")
    with pytest.raises(TypeError):  # int32 where uint32 is wanted
        ours.native(nextmove, output, rowbase, table, prior, b"abc")
    with pytest.raises(TypeError):  # float64 weights
        ours.native(nextmove, rowbase, output, table.astype(np.float64), prior, b"abc")
    with pytest.raises(ValueError, match="outside the tables"):
        walk = (array("I", [5] * 256), array("I", [0]), array("i", [-1]))
        ours.native(*walk, table, prior, b"a")


def test_without_the_c_scores_the_answers_are_the_same() -> None:
    ours, _ = _pair("latin")
    plain = copy.copy(ours)
    plain.native = None  # as built without a C compiler
    assert [plain.best(t) for t in _texts()] == [ours.best(t) for t in _texts()]
