"""One rule set across hosts: ``alerts rules push`` publishes a checked directory into Redis,
and every worker keeps a local copy of the published set for its ``RulesWatcher`` to load.

The copy is a directory per version behind a ``current`` symlink swapped in one rename, so a
reload never reads half of one set and half of another. The version is the loader's own content
hash, so the version ``push`` prints is the one every worker reports once it runs it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from collections.abc import Collection
from datetime import datetime
from pathlib import Path
from typing import Any

import redis

from alerts.clock import Clock, system_clock
from alerts.matching.load import load_ruleset
from alerts.rules.loader import rule_files
from alerts.rules.ruleset import RuleSet

PUBLISHED_KEY = "alerts:rules:published"  # JSON: version, files, pushed_at
FILES_KEY = "alerts:rules:files:{}"  # hash per version: file name -> content
WORKERS_KEY = "alerts:rules:workers"  # hash: worker -> JSON status (see workers/runtime.py)
WORKER_REPORT_AGE = 180.0  # seconds: a worker reports at least once a minute while it works
KEEP_VERSIONS = 2  # the previous set stays readable for workers mid-copy


def publish(
    client: redis.Redis, rules_dir: Path, *, channels: Collection[str] | None, clock: Clock
) -> RuleSet:
    """Validate ``rules_dir`` (RuleSetError lists every problem) and make it the published set."""
    ruleset = load_ruleset(rules_dir, channels=channels)
    files = {path.name: path.read_bytes() for path in rule_files(rules_dir)}
    previous = published(client)
    meta = {"version": ruleset.version, "files": len(files), "pushed_at": clock().isoformat()}
    with client.pipeline(transaction=True) as pipe:
        pipe.delete(FILES_KEY.format(ruleset.version))
        if files:
            pipe.hset(FILES_KEY.format(ruleset.version), mapping=files)  # type: ignore[arg-type]
        pipe.set(PUBLISHED_KEY, json.dumps(meta))
        pipe.lpush(f"{PUBLISHED_KEY}:history", ruleset.version)
        pipe.execute()
    _forget_old(client, keep={ruleset.version, (previous or {}).get("version")})
    return ruleset


def _forget_old(client: redis.Redis, keep: set[Any]) -> None:
    history = f"{PUBLISHED_KEY}:history"
    for raw in client.lrange(history, KEEP_VERSIONS, -1):
        version = _text(raw)
        if version not in keep:
            client.delete(FILES_KEY.format(version))
    client.ltrim(history, 0, KEEP_VERSIONS - 1)


def published(client: redis.Redis) -> dict[str, Any] | None:
    """The published set's version, file count and push time (None before any push)."""
    raw = client.get(PUBLISHED_KEY)
    return json.loads(raw) if raw else None


def worker_versions(client: redis.Redis, now: datetime, max_age: float) -> dict[str, Any]:
    """Each worker process's reported rules status, those heard from within ``max_age`` s."""
    out = {}
    for name, raw in sorted(client.hgetall(WORKERS_KEY).items()):
        status = json.loads(raw)
        age = (now - datetime.fromisoformat(status["reported_at"])).total_seconds()
        if age <= max_age:
            out[_text(name)] = status
    return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


class PublishedRules:
    """A local copy of the published rule set, refreshed at most every ``min_interval`` s."""

    def __init__(
        self, client: redis.Redis, *, min_interval: float = 2.0, clock: Clock = system_clock
    ) -> None:
        self.client = client
        self.min_interval = min_interval
        self.clock = clock
        self.root = Path(tempfile.mkdtemp(prefix="alerts-rules-"))
        self.version: str | None = None
        self._checked: datetime | None = None
        self._lock = threading.Lock()  # a task and the refresh thread may sync at once

    @property
    def rules_dir(self) -> Path:
        """Where the current copy is (absent until the first push arrives)."""
        return self.root / "current"

    def sync(self) -> None:
        """Copy a newly published set in; a Redis outage propagates (the task requeues)."""
        with self._lock:
            self._sync()

    def _sync(self) -> None:
        now = self.clock()
        if self._checked and (now - self._checked).total_seconds() < self.min_interval:
            return
        self._checked = now
        meta = published(self.client)
        if meta is None or meta["version"] == self.version:
            return
        files = self.client.hgetall(FILES_KEY.format(meta["version"]))
        if len(files) != meta["files"]:
            return  # pushed again meanwhile: the next sync reads the newer one
        self._install(meta["version"], {_text(k): _bytes(v) for k, v in files.items()})

    def _install(self, version: str, files: dict[str, bytes]) -> None:
        target = self.root / version
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir()
        for name, data in files.items():
            if Path(name).name != name or name.startswith("."):
                continue  # only plain file names were pushed; never write outside the copy
            (target / name).write_bytes(data)
        link = self.root / f".current-{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(target.name)
        link.replace(self.rules_dir)  # atomic: a reload sees the old set or the new one
        old, self.version = self.version, version
        if old:
            shutil.rmtree(self.root / old, ignore_errors=True)
