"""``!!python/...`` tags in rule files and in the settings file are refused; nothing runs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alerts.errors import ConfigError
from alerts.matching import load_ruleset
from alerts.rules import RuleSetError
from alerts.settings import load_settings
from tests.hostile.conftest import RULE_ERROR, alerts_cli


def payloads(marker: Path) -> dict[str, str]:
    """YAML values that would run code (or build Python objects) under an unsafe loader."""
    cmd = f'["touch {marker}"]'
    return {
        "object-apply": f"!!python/object/apply:os.system {cmd}",
        "object-new": f"!!python/object/new:os.system {cmd}",
        "object": "!!python/object:os._wrap_close {}",
        "name": "!!python/name:os.system",
        "module": "!!python/module:os",
        "tuple": "!!python/tuple [a, b]",
        "verbatim-tag": f"!<tag:yaml.org,2002:python/object/apply:os.system> {cmd}",
        "local-tag": "!custom value",
        "binary": "!!binary aGVsbG8=",
        "set": "!!set {a, b}",
    }


@pytest.mark.parametrize("kind", sorted(payloads(Path("m"))))
def test_rule_file_tags_are_refused_at_their_position(
    tmp_path: Path, marker: Path, kind: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    value = payloads(marker)[kind]
    (rules / "evil.yaml").write_text(f"id: evil\nany: {value}\nnotify: {{channels: [slack]}}\n")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules, channels=["slack"])
    (error,) = [str(e) for e in info.value.errors]
    m = RULE_ERROR.match(error)
    assert m, error
    assert (m["line"], m["col"]) == ("2", "6")
    assert m["message"].startswith("YAML tag ") and m["message"].endswith(" is not allowed")
    assert not marker.exists()


def test_tag_as_a_mapping_key_or_list_item_is_refused(tmp_path: Path, marker: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    apply = payloads(marker)["object-apply"]
    (rules / "a.yaml").write_text(f"id: a\nany:\n  - ok\n  - {apply}\nnotify: {{channels: [x]}}\n")
    (rules / "b.yaml").write_text(f"id: b\n? {apply}\n: 1\nany: [x]\nnotify: {{channels: [x]}}\n")
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules)
    lines = [str(e) for e in info.value.errors]
    assert all(RULE_ERROR.match(line) for line in lines)
    tag = "tag:yaml.org,2002:python/object/apply:os.system"
    assert any(line.endswith(f"a.yaml:4:5: YAML tag {tag!r} is not allowed") for line in lines)
    assert any(line.endswith("b.yaml:2:3: mapping keys must be plain strings") for line in lines)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["object-apply", "object-new", "name", "module", "verbatim-tag"])
def test_settings_file_tags_are_refused(
    tmp_path: Path, marker: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(f"log_level: INFO\napi_token: {payloads(marker)[kind]}\n")
    monkeypatch.setenv("ALERTS_CONFIG", str(config))
    with pytest.raises(ConfigError) as info:
        load_settings()
    (problem,) = info.value.problems
    assert problem.startswith(f"{config}:2:12: YAML tag ")
    assert problem.endswith(" is not allowed")
    assert not marker.exists()


def test_cli_with_an_evil_settings_file_exits_2_without_running_it(
    tmp_path: Path, marker: Path
) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(f"channels:\n  x: {payloads(marker)['object-apply']}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTS_")}
    env["ALERTS_CONFIG"] = str(config)
    result = alerts_cli("rules", "check", "rules", env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    tag = "tag:yaml.org,2002:python/object/apply:os.system"
    assert f"{config}:2:6: YAML tag {tag!r} is not allowed" in result.stderr
    assert "Traceback" not in result.stderr
    assert not marker.exists()
