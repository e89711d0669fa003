"""An alias bomb in the settings file, and an oversized rule file under the reload watcher.

Both are about bounded memory: a hostile file must cost at most its own size, once.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from alerts.errors import ConfigError
from alerts.matching.reload import fingerprint
from alerts.rules.yamlsafe import MAX_FILE_BYTES
from alerts.settings import load_settings


def settings_bomb(depth: int = 9) -> str:
    """Billion laughs hidden in a source's free-form ``options``, fired through ``channels``."""
    lines = [
        "sources:",
        "  - {id: s, kind: rss, url: 'https://example.org/feed', options: {",
        '      l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"],',
    ]
    lines += [f"      l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]," for i in range(1, depth)]
    lines += ["  }}", "channels:", f"  x: *l{depth - 1}"]
    return "\n".join(lines) + "\n"


def test_settings_alias_bomb_is_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "alerts.yaml"
    config.write_text(settings_bomb(), encoding="utf-8")
    monkeypatch.setenv("ALERTS_CONFIG", str(config))
    with pytest.raises(ConfigError) as info:
        load_settings()
    (problem,) = info.value.problems
    assert problem == f"{config}:4:16: YAML aliases are not allowed"


def test_reload_fingerprint_does_not_read_an_oversized_file(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as out:  # sparse: no disk used
        out.truncate(64 * 2**20)
    tracemalloc.start()
    try:
        first = fingerprint(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_FILE_BYTES, f"fingerprint allocated {peak / 2**20:.0f} MiB"
    with huge.open("r+b") as out:
        out.truncate(64 * 2**20 + 1)
    assert fingerprint(tmp_path) != first  # a change to the big file is still noticed
