"""Hostile rule files: alias bombs, oversized and deeply nested files, code-execution tags.

Each must give a clear ``path:line:col: message`` error, nothing may execute, and a worker's
rules watcher keeps serving its last good rule set.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.matching import load_ruleset
from alerts.matching.reload import RulesWatcher
from alerts.models import Item
from alerts.rules import RuleSetError
from alerts.rules.yamlsafe import MAX_FILE_BYTES
from tests.hostile.conftest import RULE_ERROR, alerts_cli

GOOD = "id: kaluga\nany: [Kaluga]\nnotify: {channels: [slack]}\n"


def billion_laughs(depth: int = 9) -> str:
    """The classic: each level refers nine times to the one below (9**depth strings)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, depth)]
    return "\n".join(lines) + f"\nid: bomb\nany: *l{depth - 1}\nnotify: {{channels: [slack]}}\n"


BOMBS = {
    # (file text, line and column of the first alias)
    "billion-laughs": (billion_laughs(), 2, 10),
    "alias-in-lists": (
        "lists:\n  a: &a [x, y]\n  b: *a\nwatches: []\n",
        3,
        6,
    ),
    "merge-key": (
        "watches:\n  - &base {id: a, any: [x], notify: {channels: [slack]}}\n"
        "  - <<: *base\n    id: b\n",
        3,
        9,
    ),
}


def errors_of(rules_dir: Path) -> list[str]:
    """The printed errors of loading ``rules_dir`` (fails when it loads)."""
    with pytest.raises(RuleSetError) as info:
        load_ruleset(rules_dir, channels=["slack"])
    return [str(e) for e in info.value.errors]


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_alias_bomb_is_one_located_error(tmp_path: Path, name: str) -> None:
    text, line, col = BOMBS[name]
    (tmp_path / "bomb.yaml").write_text(text, encoding="utf-8")
    (errors,) = errors_of(tmp_path)
    m = RULE_ERROR.match(errors)
    assert m, errors
    assert m["path"].endswith("bomb.yaml")
    assert (int(m["line"]), int(m["col"])) == (line, col)
    assert m["message"] == "YAML aliases are not allowed"


def test_ten_megabyte_rule_file_is_refused_before_parsing(tmp_path: Path) -> None:
    chunk = "".join(
        f"  - id: w{i}\n    any: [term{i}]\n    notify: {{channels: [slack]}}\n"
        for i in range(1000)
    )
    big = tmp_path / "big.yaml"
    with big.open("w", encoding="utf-8") as out:
        out.write("watches:\n")
        while out.tell() < 10 * 1024 * 1024:
            out.write(chunk)
    (tmp_path / "good.yaml").write_text(GOOD, encoding="utf-8")
    (errors,) = errors_of(tmp_path)
    assert errors.endswith(f"big.yaml:1:1: file is larger than {MAX_FILE_BYTES} bytes")


def test_deep_nesting_is_a_located_error_not_a_crash(tmp_path: Path) -> None:
    depth = 200_000  # well under the size cap, far over Python's recursion limit
    (tmp_path / "deep.yaml").write_text("id: x\nany: " + "[" * depth + "]" * depth + "\n")
    (errors,) = errors_of(tmp_path)
    m = RULE_ERROR.match(errors)
    assert m, errors
    assert "nested too deeply" in m["message"]


def test_rules_check_cli_reports_every_hostile_file(tmp_path: Path) -> None:
    for name, (text, _, _) in BOMBS.items():
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "huge.yaml").write_bytes(b"# padding\n" * (MAX_FILE_BYTES // 10 + 1))
    result = alerts_cli("rules", "check", str(tmp_path))
    assert result.returncode == 1, result.stdout + result.stderr
    printed = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    located = [line for line in printed if RULE_ERROR.match(line)]
    assert len(located) == len(BOMBS) + 1, printed
    assert any("huge.yaml:1:1: file is larger than" in line for line in located)
    assert sum("YAML aliases are not allowed" in line for line in located) == len(BOMBS)
    assert "Traceback" not in result.stderr


def test_watcher_keeps_the_last_good_rule_set(tmp_path: Path) -> None:
    (tmp_path / "kaluga.yaml").write_text(GOOD, encoding="utf-8")
    watcher = RulesWatcher(tmp_path, channels=["slack"], min_interval=0.0)
    good, _ = watcher.current()
    (tmp_path / "bomb.yaml").write_text(billion_laughs(), encoding="utf-8")
    (tmp_path / "huge.yaml").write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    ruleset, matcher = watcher.current()
    assert ruleset.version == good.version
    assert [r.id for r in ruleset.rules] == ["kaluga"]
    item = Item(id="i1", source="t", title="Drones over Kaluga", body="")
    assert [m.watch for m in matcher.match(item)] == ["kaluga"]
    error = watcher.status()["last_error"]
    assert "bomb.yaml:2:10: YAML aliases are not allowed" in error
    assert "huge.yaml:1:1: file is larger than" in error
    (tmp_path / "bomb.yaml").unlink()
    (tmp_path / "huge.yaml").unlink()
    assert watcher.current()[0].version == good.version
    assert watcher.status()["last_error"] is None
