"""Rule errors: each one carries the file, line and column it is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alerts.errors import AlertsError


@dataclass(frozen=True, order=True)
class RuleError:
    """One problem in a rule file, printed as ``path:line:col: message``."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"


class RuleSetError(AlertsError):
    """A rule set that cannot be loaded; ``errors`` lists every problem found in one pass."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = sorted(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


def display_path(path: Path) -> str:
    """A path as users wrote it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
