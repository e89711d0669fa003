"""Rule errors: each one carries the file, line and column it is about."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alerts.errors import AlertsError

MAX_MESSAGE = 240
MAX_QUOTE = 40


def quote(token: object) -> str:
    """``repr`` of a token from a rule file, cut to ``MAX_QUOTE`` characters."""
    text = str(token)
    return repr(text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…")


@dataclass(frozen=True, order=True)
class RuleError:
    """One problem in a rule file, printed as ``path:line:col: message``."""

    path: str
    line: int
    col: int
    message: str

    def __str__(self) -> str:
        # A message never carries more than a short quote of the file (rule files may be
        # symlinks to secrets, and errors reach logs and /healthz).
        text = self.message
        if len(text) > MAX_MESSAGE:
            text = text[: MAX_MESSAGE - 1] + "…"
        return f"{self.path}:{self.line}:{self.col}: {text}"


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
