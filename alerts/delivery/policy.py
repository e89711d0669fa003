"""The ``notify:`` block of a watch rule."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class NotifySpec(BaseModel):
    """Where and how a watch's alerts are delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[str, ...] = Field(min_length=1, description="Channel names from the settings.")
