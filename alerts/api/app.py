"""The HTTP API: submit bulletins, read health and the delivery ledger. Queueing is injected."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from alerts.clock import Clock, system_clock
from alerts.ingest import ParseError, SignatureError, parse_bulletin
from alerts.ingest.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from alerts.settings import Settings

_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Submitter(Protocol):
    """Queues a raw bulletin for ingestion (Celery in production, a list in tests)."""

    def __call__(self, *, source: str, data: bytes, content_type: str | None) -> None: ...


Health = Callable[[], dict[str, Any]]
CountNew = Callable[[list[str]], int]  # how many of these item ids were never ingested
ReplayGuard = Callable[[str], bool]  # True the first time a request id is seen
REQUEST_ID_HEADER = "X-Alerts-Id"
Deliveries = Callable[[str | None, str | None, int], list[dict[str, Any]]]


def create_app(
    settings: Settings,
    *,
    submit: Submitter,
    health: Health,
    deliveries: Deliveries | None = None,
    replay_guard: ReplayGuard | None = None,
    count_new: CountNew | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """Build the FastAPI app around the injected queue, health probe and ledger reader."""
    api = FastAPI(title="bulletin-alerts", version="1")
    limit = settings.max_body_bytes

    def bearer_ok(request: Request) -> bool:
        expected = settings.api_token.get_secret_value() if settings.api_token else ""
        given = request.headers.get("authorization", "")
        return bool(expected) and hmac.compare_digest(given.encode(), f"Bearer {expected}".encode())

    def authorize(request: Request) -> None:
        if not settings.api_token:
            raise HTTPException(503, "the API token is not configured (ALERTS_API_TOKEN)")
        if not bearer_ok(request):
            raise HTTPException(401, "missing or wrong bearer token")

    def check_signature(request: Request, source: str, data: bytes) -> None:
        src = settings.source(source)
        secret = src.secret.get_secret_value().encode() if src and src.secret else b""
        try:
            verify_signature(
                secret,
                request.headers.get(TIMESTAMP_HEADER, ""),
                data,
                request.headers.get(SIGNATURE_HEADER, ""),
                clock(),
            )
        except SignatureError as exc:
            raise HTTPException(401, f"bad signature: {exc}") from None

    @api.post("/v1/bulletins", status_code=202, response_model=None)
    async def post_bulletin(request: Request, source: str = "api") -> dict[str, Any] | JSONResponse:
        """Accept a text, RSS/Atom or JSON bulletin; 202 with its item ids and how many are new."""
        if not _SOURCE.match(source):
            raise HTTPException(400, "source must be 1-64 letters, digits, '_', '.' or '-'")
        src = settings.source(source)
        signed = bool(src and src.secret and request.headers.get(SIGNATURE_HEADER))
        if not signed:
            authorize(request)
        data = await read_capped(request, limit)
        if signed:
            check_signature(request, source, data)
        replay_id = request.headers.get(REQUEST_ID_HEADER) or (
            request.headers.get(SIGNATURE_HEADER) if signed else None
        )
        if replay_id and replay_guard and not replay_guard(f"{source}:{replay_id}"):
            return JSONResponse({"status": "duplicate", "accepted": 0, "new": 0, "items": []}, 200)
        content_type = request.headers.get("content-type")
        try:
            items = parse_bulletin(data, source=source, content_type=content_type)
        except ParseError as exc:
            raise HTTPException(400, f"unreadable bulletin: {exc}") from None
        ids = [i.id for i in items]
        # Counted before the worker marks them seen; None when no seen store is wired in.
        new = count_new(list(dict.fromkeys(ids))) if count_new else None
        submit(source=source, data=data, content_type=content_type)
        return {"status": "accepted", "accepted": len(ids), "new": new, "items": ids}

    @api.get("/healthz")
    def healthz() -> JSONResponse:
        """Redis and worker liveness, and the rules' reload status."""
        report = health()
        ok = bool(report.get("redis")) and bool(report.get("workers"))
        return JSONResponse(report, status_code=200 if ok else 503)

    @api.get("/v1/deliveries")
    def list_deliveries(
        request: Request,
        watch: str | None = None,
        status: str | None = None,
        limit: int = Query(100, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        """Rows of the delivery ledger, newest first."""
        authorize(request)
        if deliveries is None:
            raise HTTPException(503, "the delivery ledger is not available")
        return deliveries(watch, status, limit)

    return api


async def read_capped(request: Request, limit: int) -> bytes:
    """Read the body, refusing with 413 as soon as it passes ``limit`` (before it is all read)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
