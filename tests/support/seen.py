"""A seen-store mixin for tests that look at the world the moment items are marked seen."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any


class CheckBeforeMark:
    """Runs ``check(ids)`` just before the seen store it is mixed into marks items seen."""

    check: Any = None

    def mark_seen(self, ids: Iterable[str], now: datetime) -> None:
        """Check first, then mark."""
        ids = list(ids)
        if self.check is not None:
            self.check(ids)
        super().mark_seen(ids, now)  # type: ignore[misc]
