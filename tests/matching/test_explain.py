"""Explanations: snippets with hits marked, the JSON line, the readable report."""

from __future__ import annotations

from pathlib import Path

from alerts.matching import Matcher
from alerts.matching.explain import explain_text, highlight, match_json, snippet
from alerts.models import Hit
from tests.matching.helpers import item, ruleset_of


def test_snippet_marks_hits_in_a_window() -> None:
    text = "x " * 100 + "the Kaluga region and Kaluga airport" + " y" * 100
    start = text.index("Kaluga")
    second = text.index("Kaluga", start + 1)
    hits = [
        Hit(term="Kaluga", field="body", start=s, end=s + 6, text="Kaluga") for s in (start, second)
    ]
    out = snippet(text, hits, width=60)
    assert "the [[Kaluga]] region and [[Kaluga]] airport" in out
    assert out.startswith("…") and out.endswith("…")


def test_explain_and_json(tmp_path: Path) -> None:
    ruleset = ruleset_of(
        tmp_path,
        "id: k\nname: Kaluga\nany: [Kaluga]\nnone: [exercise]\nnotify: {channels: [email]}\n",
    )
    matcher = Matcher(ruleset)
    it = item("Fire in Калуге", id="i1")
    (match,) = matcher.match(it)
    text = explain_text(match, it, matcher.rule("k"))
    assert text.splitlines() == [
        f"watch    k (Kaluga) defined at {ruleset.rules[0].path}:1",
        "item     i1 'Fire in Калуге' (source test)",
        f"rules    version {ruleset.version}",
        "clause   Kaluga AND NOT exercise",
        "hit      title[8:14] Kaluga → «Калуге» (transliterated, inflected)",
        "snippet  title: Fire in [[Калуге]]",
    ]
    assert "\x1b[1;33mКалуге\x1b[0m" in highlight(text)
    line = match_json(match, it, explain=True)
    assert line["hits"] == [
        {
            "term": "Kaluga",
            "field": "title",
            "start": 8,
            "end": 14,
            "text": "Калуге",
            "how": ["transliterated", "inflected"],
        }
    ]
    assert line["snippets"] == {"title": "Fire in [[Калуге]]"}
    assert line["clause"] == "Kaluga AND NOT exercise"
