"""Settings of the notifiers (``notify:`` in the settings file, ``ALERTS_NOTIFY__*``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class NotifySettings(BaseModel):
    """How messages are rendered and sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    templates_dir: Path | None = None
