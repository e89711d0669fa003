"""Settings of the delivery pipeline (``delivery:`` in the settings file, ``ALERTS_DELIVERY__``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DeliverySettings(BaseModel):
    """Retry, pacing and lease parameters of delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=8, ge=1, description="Sends tried before a row is dead.")
    backoff_base: float = Field(default=2.0, gt=0, description="Seconds; doubled per attempt.")
    backoff_cap: float = Field(default=600.0, gt=0, description="Upper bound of one backoff.")
    retry_after_cap: float = Field(
        default=600.0,
        gt=0,
        description="Longest wait a peer's Retry-After may impose (under the visibility timeout).",
    )
    lease_seconds: float = Field(default=60.0, gt=0, description="How long a send claim holds.")
    pace_rate: float = Field(default=1.0, gt=0, description="Messages per second per channel.")
    pace_burst: int = Field(default=1, ge=1, description="Token bucket size per channel.")
    paced_channels: tuple[str, ...] | None = Field(
        default=None, description="Channels to pace; None paces every channel."
    )
    story_window_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="How long alerts are grouped into one story."
    )
    story_threshold: float = Field(default=0.5, gt=0, le=1, description="Jaccard estimate.")
    row_ttl_days: float = Field(default=30.0, gt=0, description="How long ledger rows are kept.")
    key_prefix: str = Field(default="alerts:dlv:", description="Prefix of the ledger's keys.")
