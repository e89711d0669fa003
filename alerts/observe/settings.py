"""Settings of the metrics endpoints (the ``metrics:`` section) and of the log format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

LogFormat = Literal["text", "json"]


class MetricsSettings(BaseModel):
    """Where a worker serves its metrics; the API serves them on its own port at ``/metrics``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    worker_port: int | None = Field(
        default=9808,
        ge=1,
        le=65535,
        description="Port of a worker's /metrics (null: none); one per worker on a host.",
    )
    worker_host: str = Field(default="127.0.0.1", description="Address the worker endpoint binds.")


@dataclass(frozen=True)
class LogSetup:
    """What the log set-up needs: level, format, and the secrets no line may show."""

    level: str = "INFO"
    format: LogFormat = "text"
    secret_urls: tuple[str, ...] = ()  # channel URLs: every secret part of each is masked
    secrets: tuple[str, ...] = ()  # plain secrets: the API token, source keys, Redis password
