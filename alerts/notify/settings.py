"""Settings of the notifiers (``notify:`` in the settings file, ``ALERTS_NOTIFY__*``)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(value: str | None) -> str | None:
    """Accept ``https://`` anywhere or ``http://`` on a loopback host; strip a trailing '/'."""
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return value.rstrip("/")
    if parts.scheme == "http" and _is_loopback(host):
        return value.rstrip("/")
    raise ValueError("must be an https:// URL, or http:// on a loopback address")


class NotifySettings(BaseModel):
    """How messages are rendered and sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates_dir: Path | None = Field(
        default=None, description="Templates here override the shipped ones, by file name."
    )
    slack_webhook_base: str | None = Field(
        default=None,
        description="Replaces https://hooks.slack.com/services for slack:// webhook URLs "
        "(ALERTS_NOTIFY__SLACK_WEBHOOK_BASE); tests point it at a local server.",
    )
    slack_api_base: str | None = Field(
        default=None,
        description="Replaces https://slack.com/api for slack:// bot-token URLs.",
    )
    smtp_timeout: float = Field(default=15.0, gt=0, description="Seconds per SMTP operation.")
    http_timeout: float = Field(default=10.0, gt=0, description="Seconds per HTTP request.")
    snippet_chars: int = Field(default=280, ge=40, le=3000, description="Snippet length.")

    @field_validator("slack_webhook_base", "slack_api_base")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        return check_base_url(value)
