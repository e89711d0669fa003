"""Settings of the delivery pipeline (``delivery:`` in the settings file, ``ALERTS_DELIVERY__*``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DeliverySettings(BaseModel):
    """Retry, pacing and lease parameters of delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = 8
