"""One destination (one Apprise URL) and how its failures are classified."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from alerts.notify.base import SendResult
from alerts.notify.render import Kind, Message
from alerts.notify.scrub import REDACTOR

_DELTA_SECONDS = re.compile(r"-?\d+(?:\.\d+)?")  # a negative wait means none
MAX_RETRY_AFTER = 7 * 86400.0  # finite whatever the peer sends; delivery caps it far lower


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
    """Seconds from a ``Retry-After`` header, or None when absent or unreadable.

    Delta-seconds are digits (a fraction is tolerated); anything else must be an HTTP-date.
    ``1e12``, ``inf`` or ``NaN`` are neither, so they are ignored (our own backoff applies);
    an absurd wait is bounded here, and delivery cuts it to ``delivery.backoff_cap``.
    """
    text = (value or "").strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return min(max(0.0, float(text)), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)
