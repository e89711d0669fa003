"""When the store behind the API does not answer: a 503 that says whether the bulletin was kept.

Redis refusing the connection means nothing was written: ``stored`` is false and the client
simply retries. Redis not answering in time (frozen, overloaded) leaves the write's outcome
unknown: it may land once Redis wakes up. Either way a retry of the same POST is safe: a
bulletin stored twice alerts once (item ids are remembered), and a retried ``X-Alerts-Id`` is
answered ``duplicate`` only when its first POST was answered 202.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Request
from fastapi.responses import JSONResponse

from alerts.errors import AlertsError

RETRY_AFTER_SECONDS = 5


class Unavailable(AlertsError):
    """The intake store did not take the bulletin; ``stored`` is False, or "unknown"."""

    def __init__(self, reason: str, *, stored: Literal[False, "unknown"]) -> None:
        super().__init__(reason)
        self.reason, self.stored = reason, stored


async def unavailable_response(_request: Request, exc: Unavailable) -> JSONResponse:
    """503 with ``Retry-After`` and what is known of the write."""
    if exc.stored is False:
        detail = f"{exc.reason}: the bulletin was not stored; retry later"
    else:
        detail = (
            f"{exc.reason}: the bulletin may have been stored; retry it (with the same "
            "X-Alerts-Id): it will not alert twice"
        )
    return JSONResponse(
        {"status": "unavailable", "stored": exc.stored, "detail": detail},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
