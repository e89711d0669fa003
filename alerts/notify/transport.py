"""One destination (one Apprise URL) and how its failures are classified."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from alerts.notify.base import SendResult
from alerts.notify.redact import REDACTOR
from alerts.notify.render import Kind, Message


class Sender(Protocol):
    """Sends a rendered message to one destination URL."""

    kind: Kind
    label: str  # the URL in Apprise's privacy form; safe to log

    def send(self, message: Message, *, reply_to: str | None = None) -> SendResult:
        """Send once; never raises for I/O; ``error`` names the destination by ``label``."""
        ...


def failure(
    label: str, detail: str, *, retryable: bool, retry_after: float | None = None
) -> SendResult:
    """A failed SendResult whose error text is scrubbed of any registered secret."""
    text = REDACTOR.scrub(f"{detail} ({label})")
    return SendResult(ok=False, retryable=retryable, retry_after=retry_after, error=text[:500])


def smtp_retryable(code: int) -> bool:
    """SMTP 5xx is permanent; 4xx (and the odd non-standard code) is temporary: retry."""
    return not 500 <= code < 600


def http_retryable(status: int) -> bool:
    """HTTP 429 and 5xx are temporary (retry); other 4xx are permanent."""
    return status == 429 or status >= 500


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
