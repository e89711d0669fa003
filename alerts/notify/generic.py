"""Any other Apprise URL: sent through Apprise itself, one Apprise object per destination.

Apprise's ``notify()`` (an ``AppriseResult`` in 2.x, True/False/None before) says whether it worked
but not whether a failure is temporary; so a failure or timeout is taken as temporary (retried,
bounded by the delivery policy) and "no service matched" (NOMATCH, None) as permanent.
"""

from __future__ import annotations

import logging
from typing import Any

import apprise

from alerts.notify.base import SendResult
from alerts.notify.render import Kind, Message
from alerts.notify.transport import failure

log = logging.getLogger(__name__)


class AppriseSender:
    """Sends the plain-text rendering through one Apprise object holding one URL."""

    kind: Kind = "text"

    def __init__(self, plugin: Any, *, label: str) -> None:
        self.label = label
        self.apprise = apprise.Apprise()
        self.apprise.add(plugin)

    def send(self, message: Message, *, reply_to: str | None = None) -> SendResult:
        """Notify through Apprise; success is ok, failure/timeout retryable, no match permanent."""
        try:
            outcome = self.apprise.notify(
                body=message.text, title=message.subject, body_format=apprise.NotifyFormat.TEXT
            )
        except Exception as exc:  # a third-party plugin may raise anything; we must not
            log.warning("apprise raised %s sending to %s", type(exc).__name__, self.label)
            return failure(self.label, f"apprise raised {type(exc).__name__}", retryable=True)
        status = getattr(getattr(outcome, "status", None), "name", "")
        if outcome is None or status == "NOMATCH":
            return failure(self.label, "apprise: no service accepted the message", retryable=False)
        if status == "TIMEOUT":
            return failure(self.label, "apprise: timed out", retryable=True)
        if not outcome:
            return failure(self.label, f"apprise: {status or 'failure'}", retryable=True)
        return SendResult(ok=True)
