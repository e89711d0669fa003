"""Hot reload: a changed rules directory is picked up; a broken one keeps the last good set."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Collection
from datetime import datetime
from pathlib import Path
from typing import Any

from alerts.clock import Clock, system_clock
from alerts.gcpause import give_back_freed, paused_gc
from alerts.matching.load import load_ruleset
from alerts.matching.matcher import Matcher
from alerts.rules.errors import RuleError, RuleSetError
from alerts.rules.loader import inside, rule_files
from alerts.rules.ruleset import RuleSet
from alerts.rules.yamlsafe import MAX_FILE_BYTES


def fingerprint(rules_dir: Path) -> str:
    """Identity of the directory's rule files: names and contents (size and mtime if oversized)."""
    digest = hashlib.sha256()
    try:
        files = rule_files(rules_dir)
    except OSError:
        return "missing"
    for path in files:
        try:
            stat = path.stat()
            if not inside(rules_dir, path):  # refused by the loader unread; never read it
                data = f"outside:{path.resolve()}".encode()
            elif stat.st_size > MAX_FILE_BYTES:  # refused by the loader unread; never read it
                data = f"{stat.st_size}:{stat.st_mtime_ns}".encode()
            else:
                data = hashlib.sha256(path.read_bytes()).digest()
        except OSError:
            continue
        digest.update(path.name.encode() + b"\0" + data)
    return digest.hexdigest()


class RulesWatcher:
    """The current rule set and matcher, re-checked at most every ``min_interval`` seconds."""

    def __init__(
        self,
        rules_dir: Path,
        *,
        channels: Collection[str] | None = None,
        min_interval: float = 2.0,
        clock: Clock = system_clock,
        on_reload: Callable[[bool], None] | None = None,
        keep: Callable[[str], bool] | None = None,
        languages: Collection[str] = (),
    ) -> None:
        self.rules_dir = rules_dir
        self.languages = tuple(languages)  # item languages whose index views are built at load
        self.on_reload = on_reload  # told of each load attempt: True loaded, False refused
        self.keep = keep  # a shard keeps only its watches (alerts/matching/shards.py)
        self.channels = channels
        self.min_interval = min_interval
        self.clock = clock
        self._lock = threading.Lock()
        self._checked_at: datetime | None = None
        self._fingerprint = ""
        self._current: tuple[RuleSet, Matcher] | None = None
        self._loaded_at: datetime | None = None
        self._last_error: RuleSetError | None = None
        self._status: dict[str, Any] | None = None  # made on the first ask after each load

    def current(self) -> tuple[RuleSet, Matcher]:
        """The active rule set and its matcher; raises RuleSetError only if none ever loaded."""
        with self._lock:
            now = self.clock()
            due = self._checked_at is None or (
                (now - self._checked_at).total_seconds() >= self.min_interval
            )
            if due:
                self._checked_at = now
                self._refresh(now)
            if self._current is None:
                raise self._last_error or RuleSetError([])
            return self._current

    def _refresh(self, now: datetime) -> None:
        mark = fingerprint(self.rules_dir)
        if mark == self._fingerprint:
            return
        self._fingerprint = mark
        # Load and build under one pause: between them the first collection would walk every
        # object the load made. A new rule set and its matcher are frozen (no cycles: a
        # replaced one is still freed by reference counting).
        with paused_gc() as pause:
            built = self._load(now)
            if built:
                pause.keep()
        if built:
            give_back_freed()  # the parse and build freed about as much as the set keeps

    def _load(self, now: datetime) -> bool:
        """Load the directory; True when a new rule set and matcher replaced the current."""
        self._status = None  # what it reports may change below
        try:
            ruleset = load_ruleset(self.rules_dir, channels=self.channels, keep=self.keep)
        except RuleSetError as exc:
            self._last_error = exc
            self._told(False)
            return False
        except Exception as exc:  # a loader bug must not stop matching with the last good set
            where = RuleError(str(self.rules_dir), 1, 1, f"cannot load: {type(exc).__name__}")
            self._last_error = RuleSetError([where])
            self._told(False)
            return False
        self._told(True)
        self._last_error = None
        if self._current is not None and self._current[0].version == ruleset.version:
            return False
        self._current = (ruleset, Matcher(ruleset, self.languages))
        self._loaded_at = now
        return True

    def _told(self, ok: bool) -> None:
        if self.on_reload is not None:
            self.on_reload(ok)

    def status(self) -> dict[str, Any]:
        """For /healthz: active version, when it loaded, the last reload error (or None).

        Every match task asks (``workers.runtime``): made once per load attempt, a copy each ask.
        """
        with self._lock:
            if self._status is None:
                ruleset = self._current[0] if self._current else None
                self._status = {
                    "version": ruleset.version if ruleset else None,
                    "watches": len(ruleset.rules) if ruleset else 0,
                    "loaded_at": self._loaded_at.isoformat() if self._loaded_at else None,
                    "last_error": str(self._last_error) if self._last_error else None,
                }
            return dict(self._status)
