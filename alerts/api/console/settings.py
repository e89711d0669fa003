"""Settings of the console (``console:`` in the settings file, ``ALERTS_CONSOLE__*``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from alerts.envsecret import expand
from alerts.notify.settings import check_base_url


class ConsoleSettings(BaseModel):
    """Who may sign in to the console, what it may change, and where it lives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(default=True, description="Serve the console at /console/.")
    url: str | None = Field(
        default=None,
        description="console_url: the console's public base URL; alerts link to it when set.",
    )
    admin_tokens: list[SecretStr] = Field(
        default_factory=list,
        description="Sign-in tokens that may change things (the API token too).",
    )
    read_tokens: list[SecretStr] = Field(
        default_factory=list, description="Sign-in tokens that may only look."
    )
    feed_token: SecretStr | None = Field(
        default=None, description="Opens the Atom feeds of matches, and nothing else."
    )
    allow_edit: bool = Field(
        default=False, description="The playground may write watch files into rules_dir."
    )
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="How long a sign-in lasts."
    )

    @field_validator("admin_tokens", "read_tokens", "feed_token", mode="before")
    @classmethod
    def _from_env(cls, value: Any) -> Any:
        # ${ENV} expanded as the channel secrets are (not when only names are needed).
        return [expand(v) for v in value] if isinstance(value, list) else expand(value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return check_base_url(value)
