"""The operator commands, run through a parser built with ``register`` (as the root CLI does)."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from alerts.commands.rules import SKIPPED_CHANNELS, register
from alerts.models import Item
from tests.conftest import ROOT
from tests.matching.helpers import write_rules

RULES = ROOT / "rules"
BULLETIN = """\
Drones hit a plant in Kaluga. Envoys discuss a ceasefire.
Drones hit a plant in Kaluga
Drones struck a plant in the Kaluga region overnight, officials said.
Envoys discuss a ceasefire
Envoys met in Riyadh to discuss a 30-day ceasefire.
"""


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run one command; return (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="alerts")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings from defaults only: no config file, no channels."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ALERTS_CONFIG", raising=False)


def test_match_json_lines_with_offsets(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "b.txt"
    path.write_text(BULLETIN, encoding="utf-8")
    code, out, _ = run(["match", "--rules", str(RULES), str(path), "--format", "json"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [(line["watch"], line["item"]["title"]) for line in lines] == [
        ("kaluga", "Drones hit a plant in Kaluga"),
        ("ceasefire", "Envoys discuss a ceasefire"),
    ]
    hit = lines[0]["hits"][0]
    assert set(hit) == {"term", "field", "start", "end", "text", "how"}
    assert (hit["field"], hit["text"]) == ("title", "Kaluga")
    assert "Drones hit a plant in Kaluga"[hit["start"] : hit["end"]] == "Kaluga"


def test_match_reads_stdin_and_explains(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(BULLETIN.encode())))
    code, out, _ = run(["match", "--rules", str(RULES), "-", "--explain"], capsys)
    assert code == 0
    assert "clause   Kaluga" in out
    assert "snippet  title: Drones hit a plant in [[Kaluga]]" in out
    assert "rules    version " in out


def test_match_on_shared_sample(sample_bulletin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["match", "--rules", str(RULES), str(sample_bulletin), "--format", "json"], capsys
    )
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    titles = {}
    for line in lines:
        titles.setdefault(line["watch"], []).append(line["item"]["title"][:20])
    assert titles["kaluga"] == ["Ukraine drones hit h"]
    assert titles["ceasefire"] == ["Thirty-seven countri", "Trump’s special envo"]
    email_or_slack = [ln["watch"] for ln in lines if ln["watch"] in ("kaluga", "ceasefire")]
    assert len(email_or_slack) == 3


def test_rules_check_ok_and_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_settings: None
) -> None:
    code, out, _ = run(["rules", "check", str(RULES)], capsys)
    assert code == 0 and "watches OK" in out
    bad = write_rules(
        tmp_path / "bad",
        a__yaml="id: a\nany: [x]\nnotify: {channels: [e]}\nx: 1\n",
        b__yaml="id: b\nany: [{regex: '(?<=a)b'}]\nnotify: {channels: [e]}\n",
    )
    code, _, err = run(["rules", "check", str(bad)], capsys)
    assert code == 1
    assert err.splitlines() == [
        SKIPPED_CHANNELS,  # no settings here: the channel 'e' could not be checked, and it says so
        "bad/a.yaml:4:1: unknown key 'x'",
        "bad/b.yaml:2:7: regex '(?<=a)b' is not supported by RE2: invalid perl operator: (?<=",
    ]


def test_rules_test_reports_each_failing_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_settings: None
) -> None:
    d = write_rules(
        tmp_path / "r",
        a__yaml="id: a\nany: [Kaluga]\nnotify: {channels: [e]}\n"
        "examples: {match: [Калуга, Kalugin], no_match: [Tula]}\n",
    )
    code, out, _ = run(["rules", "test", str(d)], capsys)
    assert code == 1
    assert out.splitlines() == [
        "r/a.yaml:4:28: example 'Kalugin' should match watch 'a' but does not",
        "2 of 3 examples passed in 1 watches",
    ]
    code, out, _ = run(["rules", "test", str(RULES)], capsys)
    assert code == 0


def test_rules_check_checks_channel_names_without_resolving_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text("channels:\n  email: 'mailtos://${SMTP_USER}:${SMTP_PASSWORD}@h'\n")
    monkeypatch.setenv("ALERTS_CONFIG", str(config))
    monkeypatch.delenv("SMTP_USER", raising=False)
    monkeypatch.chdir(tmp_path)
    ok = write_rules(tmp_path / "ok", a__yaml="id: a\nany: [x]\nnotify: {channels: [email]}\n")
    code, out, err = run(["rules", "check", str(ok)], capsys)
    assert (code, err) == (0, "") and "1 watches OK" in out
    bad = write_rules(tmp_path / "bad", a__yaml="id: a\nany: [x]\nnotify: {channels: [emial]}\n")
    code, _, err = run(["rules", "check", str(bad)], capsys)
    assert code == 1
    assert err.splitlines() == ["bad/a.yaml:3:21: unknown channel 'emial' (did you mean 'email'?)"]


def test_rules_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules", "schema"], capsys)
    schema = json.loads(out)
    assert code == 0
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "notify" in json.dumps(schema)
    assert "RuleSpec" in schema["$defs"]


def test_backtest_reads_the_archive(
    redis_client: redis.Redis,
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_settings: None,
) -> None:
    from alerts.ingest.dedup import RedisItemArchive

    archive = RedisItemArchive(redis_client, timedelta(days=7))
    now = datetime.now(UTC)
    archive.add([Item(id="old", source="s", title="Kaluga long ago")], now - timedelta(days=3))
    archive.add(
        [Item(id=f"i{n}", source="s", title=t) for n, t in enumerate(["Kaluga", "ceasefire", "x"])],
        now,
    )
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    code, out, _ = run(
        ["backtest", "--rules", str(RULES), "--since", "1d", "--format", "json"], capsys
    )
    report = json.loads(out)
    counts = {w["watch"]: w["alerts"] for w in report["watches"]}
    assert code == 0 and report["items"] == 3
    assert (counts["kaluga"], counts["ceasefire"], counts["zelensky"]) == (1, 1, 0)
    assert report["watches"][1]["samples"][0]["item_id"] == "i0"
