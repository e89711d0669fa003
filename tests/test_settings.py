"""Settings: environment over the YAML file, ${ENV} expansion, one clear line per problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alerts.commands.main import NO_TOKEN
from alerts.errors import ConfigError
from alerts.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("ALERTS_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_yaml_file_with_env_expansion(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(tmp_path, "channels:\n  ops: 'mailto://u:${PW}@h?to=a@b.c'\nrules_dir: my-rules\n")
    monkeypatch.setenv("ALERTS_CONFIG", str(path))
    monkeypatch.setenv("PW", "hunter2")
    settings = load_settings()
    assert settings.channel_urls("ops") == ["mailto://u:hunter2@h?to=a@b.c"]
    assert settings.rules_dir == Path("my-rules")
    assert "hunter2" not in repr(settings)


def test_environment_wins_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALERTS_CONFIG", str(write(tmp_path, "api_port: 9000\n")))
    monkeypatch.setenv("ALERTS_API_PORT", "9100")
    monkeypatch.setenv("ALERTS_WORKER__CONCURRENCY", "3")
    settings = load_settings()
    assert settings.api_port == 9100
    assert settings.worker.concurrency == 3


def test_default_file_is_used_when_present(tmp_path: Path) -> None:
    (tmp_path / "alerts.yaml").write_text("api_port: 9200\n", encoding="utf-8")
    assert load_settings().api_port == 9200


def test_every_problem_is_listed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redis_url: http://nope\n"
        "channels:\n  ops: 'slack://${MISSING_VAR}'\n"
        "sources:\n  - {id: a, kind: rss}\n  - {id: b, kind: carrier-pigeon}\n"
        "colour: blue\n",
    )
    monkeypatch.setenv("ALERTS_CONFIG", str(path))
    with pytest.raises(ConfigError) as err:
        load_settings()
    text = "\n".join(err.value.problems)
    assert "setting redis_url: must start with redis://" in text
    assert "${MISSING_VAR} is not set" in text
    assert "setting sources.1.kind" in text
    assert "setting colour: unknown key" in text
    assert len(err.value.problems) == 4


def test_invalid_yaml_names_the_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALERTS_CONFIG", str(write(tmp_path, "channels:\n  ops: [a\n")))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.problems[0].startswith(f"{tmp_path / 'settings.yaml'}:")


def test_cli_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "api_port: -1\nredis_url: ftp://x\n")
    env = {"ALERTS_CONFIG": str(path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "alerts", "ingest", "-"],
        input=b"x",
        env=env,
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith("alerts: setting ") for line in lines)


def test_every_missing_variable_is_reported_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The README's "Using it" file: one line per channel, naming each variable it lacks.
    monkeypatch.setenv("ALERTS_CONFIG", str(ROOT / "alerts.example.yaml"))
    for name in ("SMTP_USER", "SMTP_PASSWORD", "SLACK_TOKEN_A", "SLACK_TOKEN_B", "SLACK_TOKEN_C"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError) as err:
        load_settings()
    smtp = "environment variables ${SMTP_USER}, ${SMTP_PASSWORD} are not set"
    slack = "environment variables ${SLACK_TOKEN_A}, ${SLACK_TOKEN_B}, ${SLACK_TOKEN_C} are not set"
    assert err.value.problems == [
        f"setting channels.email.0: {smtp}",
        f"setting channels.slack.0: {slack}",
        f"setting channels.digest.0: {smtp}",
    ]


def test_channel_names_load_without_their_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ALERTS_CONFIG", str(ROOT / "alerts.example.yaml"))
    monkeypatch.delenv("SMTP_USER", raising=False)
    settings = load_settings(resolve_secrets=False)
    assert sorted(settings.channels) == ["digest", "email", "slack"]
    with pytest.raises(ConfigError):
        load_settings()  # the next load resolves them again


def test_a_misspelt_key_in_the_file_gets_a_did_you_mean(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write(tmp_path, "api_portt: 9000\nworker:\n  concurency: 2\n")
    monkeypatch.setenv("ALERTS_CONFIG", str(path))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert sorted(err.value.problems) == [
        "setting api_portt: unknown key (did you mean 'api_port'?)",
        "setting worker.concurency: unknown key (did you mean 'concurrency'?)",
    ]


def test_unknown_alerts_variables_are_warned_about(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ALERTS_API_PORTT", "9000")
    monkeypatch.setenv("ALERTS_LOG_LEVL", "DEBUG")
    monkeypatch.setenv("ALERTS_CHANNELS__OPS", '["json://h"]')  # a key of a mapping: fine
    monkeypatch.setenv("ALERTS_CONFIG", "")
    with caplog.at_level("WARNING", logger="alerts.settings"):
        load_settings()
    ignored = "unknown environment variable {} is ignored (did you mean {!r}?)"
    assert caplog.messages == [
        ignored.format("ALERTS_API_PORTT", "ALERTS_API_PORT"),
        ignored.format("ALERTS_LOG_LEVL", "ALERTS_LOG_LEVEL"),
    ]


def test_ingest_without_a_token_says_so_and_needs_no_channel_secrets(tmp_path: Path) -> None:
    # Another shell, as the README has it: alerts.yaml in place, no secrets, no token.
    env = {"ALERTS_CONFIG": str(ROOT / "alerts.example.yaml"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "alerts", "ingest", str(ROOT / "examples" / "bulletin.txt")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == NO_TOKEN
