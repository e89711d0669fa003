"""Injected time: the core never calls ``datetime.now()`` itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The wall clock, always timezone-aware UTC."""
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests: returns a fixed instant until told to move."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        """Move the clock forward by a ``timedelta(**kwargs)``."""
        self.now = self.now + timedelta(**kwargs)
