"""The notifier port: what delivery calls to send one rendered alert or digest to one channel."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from alerts.models import Alert, Digest, Frozen


class SendResult(Frozen):
    """How one send went. ``error`` never holds a secret (URLs only in privacy form)."""

    ok: bool
    retryable: bool = False
    retry_after: float | None = Field(
        default=None, description="Seconds the peer asked us to wait."
    )
    error: str = ""
    thread_ref: str | None = Field(default=None, description="Slack ts or email Message-ID.")


class Notifier(Protocol):
    """Sends to a named channel; implementations: Apprise (real) and Recording (fake)."""

    def send(
        self, channel: str, content: Alert | Digest, *, reply_to: str | None = None
    ) -> SendResult:
        """Render ``content`` for the channel's kind and send it once. Never raises for I/O."""
        ...
