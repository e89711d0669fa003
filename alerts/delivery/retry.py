"""Retry policy: full-jitter exponential backoff, with the peer's Retry-After as a floor."""

from __future__ import annotations

import math
import random


def backoff(
    attempt: int,
    *,
    base: float,
    cap: float,
    rng: random.Random,
    retry_after: float | None = None,
    retry_after_cap: float = 600.0,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based).

    Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))], so retries from many workers
    spread out; a ``Retry-After`` from the peer is a lower bound, itself cut to
    ``retry_after_cap``: no peer parks an alert for hours (nor past the visibility timeout).
    """
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None and math.isfinite(retry_after):
        delay = max(delay, min(retry_after, retry_after_cap))
    return delay


def should_retry(attempts: int, max_attempts: int, *, retryable: bool) -> bool:
    """True when a failure may be tried again: retryable and attempts left."""
    return retryable and attempts < max_attempts
