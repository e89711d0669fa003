"""Settings of ingestion: the sources the beat scheduler polls (``sources:`` in the file)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alerts.envsecret import EnvSecret

# What a source id (and a channel name) may be: it shows in keys, metrics labels and URLs.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SourceKind = Literal["rss", "atom", "feed", "html", "text", "json", "inbox", "webhook"]


class SourceSettings(BaseModel):
    """One configured source of bulletins, polled by the beat scheduler."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Unique name; items carry it as their source.")
    kind: SourceKind = Field(description="How the source is read.")
    url: str | None = Field(default=None, description="Where to fetch (feeds, html, json).")
    path: Path | None = Field(default=None, description="The folder an inbox source watches.")
    interval: float = Field(default=300.0, gt=0, description="Seconds between polls.")
    jitter: float = Field(default=0.1, ge=0, le=1, description="Fraction of interval.")
    allow_private: bool = Field(default=False, description="Allow fetching private addresses.")
    secret: EnvSecret | None = Field(
        default=None, description="HMAC-SHA256 key of signed POSTs from this source (${ENV} ok)."
    )
    language: str | None = Field(
        default=None,
        description="The language of every item from this source (BCP 47); wins over what "
        "the documents declare. Unset: declared, else detected.",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="Options of the kind.")
    quiet_after: float | None = Field(
        default=None, gt=0, description="Overrides source_health.quiet_after for this source."
    )

    @field_validator("language")
    @classmethod
    def _language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # Imported here: the detector's model and numpy stay out of every settings load.
        from alerts.ingest.language import normalise_language

        code = normalise_language(value)
        if code is None:
            raise ValueError(f"not a language tag: {value!r}")
        return code

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("must be 1-64 letters, digits, '_', '.' or '-'")
        return value
