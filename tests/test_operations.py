"""docs/operations.md and examples/kubernetes.yaml: the manifests parse, and every command in
them is one the ``alerts`` CLI accepts, with settings and rules that validate."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from alerts.commands.main import build_parser
from alerts.matching import load_ruleset
from alerts.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "examples" / "kubernetes.yaml"
DOC = ROOT / "docs" / "operations.md"


def documents() -> list[dict[str, Any]]:
    """Every object of the Kubernetes example."""
    return [d for d in yaml.safe_load_all(MANIFEST.read_text(encoding="utf-8")) if d]


def named(kind: str, name: str) -> dict[str, Any]:
    """The object of this kind and name."""
    return next(d for d in documents() if d["kind"] == kind and d["metadata"]["name"] == name)


def manifest_commands() -> list[list[str]]:
    """The containers' commands."""
    found = []
    for doc in documents():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        found += [c["command"] for c in spec.get("containers", [])]
    return found


def commands() -> list[list[str]]:
    """Container commands of the manifests, and ``alerts ...`` commands of the doc."""
    found = manifest_commands()
    text = DOC.read_text(encoding="utf-8")
    found += [shlex.split(line) for line in re.findall(r"^alerts .*$", text, re.MULTILINE)]
    found += [shlex.split(cmd) for cmd in re.findall(r"`(alerts [^`]+)`", text)]
    return found


def test_the_manifest_has_what_docs_promise() -> None:
    kinds = {(d["kind"], d["metadata"]["name"]) for d in documents()}
    assert ("Secret", "alerts-secrets") in kinds
    assert ("ConfigMap", "alerts-rules") in kinds
    assert sum(kind == "Deployment" for kind, _ in kinds) >= 4
    for doc in documents():
        assert doc["apiVersion"] and doc["metadata"]["name"]


@pytest.mark.parametrize("argv", commands(), ids=lambda argv: " ".join(argv))
def test_every_command_is_one_the_cli_accepts(argv: list[str]) -> None:
    assert argv[0] == "alerts"
    try:
        build_parser().parse_args(argv[1:])
    except SystemExit as exc:  # argparse's way of refusing
        pytest.fail(f"`{' '.join(argv)}` is not a valid alerts command ({exc.code})")


def test_the_settings_and_rules_configmaps_validate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in named("Secret", "alerts-secrets")["stringData"].items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "alerts.yaml"
    config.write_text(named("ConfigMap", "alerts-config")["data"]["alerts.yaml"])
    monkeypatch.setenv("ALERTS_CONFIG", str(config))
    settings = load_settings()
    assert settings.sentinel_master and settings.broker_url and settings.worker.shards == 2
    shards = {c[c.index("--shard") + 1] for c in commands() if "--shard" in c}
    assert shards == {str(k) for k in range(settings.worker.shards)}  # one Deployment per shard
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in named("ConfigMap", "alerts-rules")["data"].items():
        (rules / name).write_text(text)
    assert load_ruleset(rules, channels=list(settings.channels)).rules
