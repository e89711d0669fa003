"""Control bytes and symlinks in the rules directory: located errors, no file content shown.

A NUL byte used to escape as a YAML reader traceback (no location, and a failed ingest task in
a worker); a ``rules/x.yaml`` linking to a secret file showed its lines in every error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from alerts.matching.reload import RulesWatcher
from alerts.models import Item
from alerts.rules import RuleSetError
from tests.hostile.conftest import RULE_ERROR, alerts_cli

GOOD = "id: kaluga\nany: [Kaluga]\nnotify: {channels: [slack]}\n"
SECRET = "CANARY-SECRET-4f1d"
# What a secret file looks like to YAML: keys that would be quoted back in "unknown key".
SECRET_FILE = "".join(f"{SECRET}-user{i}: x{i}:{SECRET}:19000:0:99999:7:::\n" for i in range(5))


def _errors(rules_dir: Path) -> list[str]:
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules_dir, channels=["slack"])
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize("byte", [b"\x00", b"\x07", b"\x1b"])
def test_control_byte_is_a_located_error(tmp_path: Path, byte: bytes) -> None:
    (tmp_path / "ctl.yaml").write_bytes(b"id: ctl\nany: [Kal" + byte + b"uga]\n")
    (error,) = _errors(tmp_path)
    m = RULE_ERROR.match(error)
    assert m, error
    assert (m["line"], m["col"]) == ("2", "10")
    assert m["message"] == f"control character U+{byte[0]:04X} is not allowed"


def test_rules_check_prints_a_control_byte_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "nul.yaml").write_bytes(GOOD.encode().replace(b"Kaluga", b"Kal\x00uga"))
    result = alerts_cli("rules", "check", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr
    assert "nul.yaml:2:10: control character U+0000 is not allowed" in result.stdout + result.stderr


def test_watcher_keeps_matching_after_a_control_byte(tmp_path: Path) -> None:
    (tmp_path / "kaluga.yaml").write_text(GOOD, encoding="utf-8")
    watcher = RulesWatcher(tmp_path, channels=["slack"], min_interval=0.0)
    good, _ = watcher.current()
    (tmp_path / "nul.yaml").write_bytes(b"id: x\x00\n")
    ruleset, matcher = watcher.current()
    assert ruleset.version == good.version
    item = Item(id="i1", source="t", title="Drones over Kaluga", body="")
    assert [m.watch for m in matcher.match(item)] == ["kaluga"]
    assert "nul.yaml:1:6: control character U+0000" in watcher.status()["last_error"]


def test_symlink_out_of_the_rules_dir_is_refused_unread(tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_text(SECRET_FILE, encoding="utf-8")
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "kaluga.yaml").write_text(GOOD, encoding="utf-8")
    (rules / "x.yaml").symlink_to(secret)
    (error,) = _errors(rules)
    assert error.endswith("x.yaml:1:1: links outside the rules directory")
    result = alerts_cli("rules", "check", str(rules))
    assert result.returncode == 1
    assert SECRET not in result.stdout + result.stderr
    assert "x.yaml:1:1: links outside the rules directory" in result.stdout + result.stderr


def test_symlink_inside_the_rules_dir_still_loads(tmp_path: Path) -> None:
    (tmp_path / "kaluga.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "alias.yml").symlink_to(tmp_path / "kaluga.yaml")
    errors = _errors(tmp_path)  # the same watch twice: proves the link was read
    assert any("duplicate watch id 'kaluga'" in e for e in errors)


def test_errors_quote_a_token_only_cut_short(tmp_path: Path) -> None:
    long_key = "k" + SECRET * 20
    (tmp_path / "w.yaml").write_text(GOOD + f"{long_key}: 1\n", encoding="utf-8")
    (error,) = _errors(tmp_path)
    message = RULE_ERROR.match(error)["message"]  # type: ignore[index]
    assert message.startswith("unknown key 'k")
    assert len(message) < 60 and message.count(SECRET) <= 2
