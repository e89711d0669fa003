"""``alerts parse``, registered on a parser built here as the root CLI does."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from alerts.commands.ingest import JSON_KEYS, register

FIXTURES = Path(__file__).parent.parent / "ingest" / "fixtures"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="alerts")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_parse_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code = _run(
        [
            "parse",
            str(FIXTURES / "harbour-bulletin.txt"),
            str(FIXTURES / "valdera.atom"),
            "--format",
            "json",
        ]
    )
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 5
    assert all(list(obj) == list(JSON_KEYS) for obj in lines)
    assert lines[0]["source"] == "harbour-bulletin.txt" and lines[0]["published"] is None
    assert lines[3]["title"] == "Incendio controlado cerca de Valdera"
    assert lines[3]["published"] == "2026-03-15T08:45:00+00:00"


def test_parse_stdin_with_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = (FIXTURES / "no-blank-lines.txt").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert _run(["parse", "-", "--format", "json", "--source", "wire"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [obj["source"] for obj in lines] == ["wire", "wire"]


def test_parse_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["parse", str(FIXTURES / "wrapped.txt")]) == 0
    out = capsys.readouterr().out
    assert "] Central bank holds rates\n" in out and "  The governor said" in out


def test_parse_error_exits_1_with_file_and_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b'{\n"items": [\n{"title": 1,}]}')
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"  \n")
    good = FIXTURES / "weather.rdf"
    assert _run(["parse", str(bad), str(empty), str(good), "--format", "json"]) == 1
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"{bad}:3: invalid JSON: Expecting property name enclosed in double quotes",
        f"{empty}: empty bulletin",
    ]
    assert len(captured.out.splitlines()) == 1  # the good file is still parsed


def test_parse_shows_the_language_and_takes_the_sources(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "b.txt"
    path.write_text("Удар по Харкову\n\nДвоє загиблих, п'ятеро поранених.\n", encoding="utf-8")
    assert _run(["parse", str(path)]) == 0
    assert "  language: uk (detected)\n" in capsys.readouterr().out
    assert _run(["parse", str(path), "--language", "en-GB", "--format", "json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert (line["language"], line["language_source"]) == ("en", "declared")
