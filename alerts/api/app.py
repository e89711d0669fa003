"""The HTTP API: submit bulletins, read health and the delivery ledger. Queueing is injected."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from alerts.api.console.app import mount_console
from alerts.api.console.deps import ConsoleDeps
from alerts.api.fastpath import Api, off_loop
from alerts.api.outage import Unavailable, unavailable_response
from alerts.api.upload import Accepted, read_capped, source_of
from alerts.clock import Clock, system_clock
from alerts.ingest import ParseError, SignatureError
from alerts.ingest.parse import Format, parse_bulletin_as
from alerts.ingest.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from alerts.models import Item
from alerts.observe.metrics import parse_error, source_label
from alerts.settings import Settings

_SOURCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # as JSONResponse


class Submitter(Protocol):
    """Queues a bulletin for ingestion (Celery in production, a list in tests): the raw bytes
    (kept for the reconciler) and the items parsed from them, so no worker parses it again.

    Returns how many of the items were never ingested when it counted them with its write
    (one round trip for both), else None. Raises ``Unavailable`` when the store does not answer
    (``stored`` says what is known).
    """

    def __call__(
        self,
        *,
        source: str,
        data: bytes,
        content_type: str | None,
        items: Sequence[Item],
        fmt: str,
    ) -> int | None: ...


class AsyncSubmitter(Protocol):
    """``Submitter`` as a coroutine: the store written from the event loop (no thread hop).
    ``client``: the connection the POST came on (a client that waits for each answer before
    its next POST is never held back to share a write)."""

    async def __call__(
        self,
        *,
        source: str,
        data: bytes,
        content_type: str | None,
        items: Sequence[Item],
        fmt: str,
        client: object = None,
    ) -> int | None: ...


class ReplayGuard(Protocol):
    """Request ids already accepted: checked before a submit, remembered only after it."""

    def seen(self, request_id: str) -> bool:
        """True when ``request_id`` was accepted before."""
        ...

    def remember(self, request_id: str) -> None:
        """Record ``request_id`` as accepted (after its bulletin was stored)."""
        ...


Health = Callable[[], dict[str, Any]]
CountNew = Callable[[list[str]], int]  # how many of these item ids were never ingested
REQUEST_ID_HEADER = "X-Alerts-Id"
BULLETINS = "/v1/bulletins"
Deliveries = Callable[[str | None, str | None, int], list[dict[str, Any]]]
Metrics = Callable[[], tuple[bytes, str]]  # the Prometheus text and its content type
# A body up to this size is parsed on the event loop (about 2 ms of CPU at most: 4 KiB of
# plain text) when the store is written asynchronously: at 100 one-item POSTs/s the thread hop
# cost about 0.3 ms of the API's CPU per POST, more than such a parse.
INLINE_BODY_BYTES = 4096


def create_app(
    settings: Settings,
    *,
    submit: Submitter,
    health: Health,
    deliveries: Deliveries | None = None,
    replay_guard: ReplayGuard | None = None,
    count_new: CountNew | None = None,
    clock: Clock = system_clock,
    console: ConsoleDeps | None = None,
    metrics: Metrics | None = None,
    submit_async: AsyncSubmitter | None = None,
) -> FastAPI:
    """Build the FastAPI app around the injected queue, health probe and ledger reader."""
    # No /docs, /redoc or /openapi.json unless asked for (README, "API documentation").
    docs = settings.api_docs
    api = Api(
        title="bulletin-alerts",
        version="1",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    api.add_exception_handler(Unavailable, unavailable_response)  # type: ignore[arg-type]
    if console is not None and settings.console.enabled:
        mount_console(api, console)
    limit = settings.max_body_bytes

    # The header a request must carry, built once (the settings are frozen); b"" with no token.
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    bearer = f"Bearer {token}".encode() if token else b""
    # ``settings.source`` as a dict: the first source of an id, as its search finds it.
    sources = {src.id: src for src in reversed(settings.sources)}

    def bearer_ok(request: Request) -> bool:
        given = request.headers.get("authorization", "")
        return bool(bearer) and hmac.compare_digest(given.encode(), bearer)  # constant-time

    def authorize(request: Request) -> None:
        if not settings.api_token:
            raise HTTPException(503, "the API token is not configured (ALERTS_API_TOKEN)")
        if not bearer_ok(request):
            raise HTTPException(401, "missing or wrong bearer token")

    def check_signature(request: Request, source: str, data: bytes) -> None:
        src = sources.get(source)
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

    def replay_key(request: Request, source: str, signed: bool) -> str | None:
        # A signed request is known by its signature: X-Alerts-Id is not signed, so a replay
        # with a fresh id would pass as new.
        rid = request.headers.get(SIGNATURE_HEADER if signed else REQUEST_ID_HEADER)
        return f"{source}:{rid}" if rid and replay_guard is not None else None

    def parsed(
        data: bytes, source: str, content_type: str | None, language: str | None
    ) -> tuple[list[Item], int | None, str]:
        """The bulletin's items, how many are new when ``count_new`` says, and its format."""
        items, fmt = _parse(data, source, content_type, language, settings)
        # Counted before the worker marks them seen; None when no seen store is wired in.
        new = count_new(list(dict.fromkeys(i.id for i in items))) if count_new else None
        return items, new, fmt

    def accept(
        data: bytes, source: str, content_type: str | None, language: str | None
    ) -> tuple[list[str], int | None]:
        """Parse, store and queue a bulletin: its item ids and how many are new."""
        items, new, fmt = parsed(data, source, content_type, language)
        counted = submit(source=source, data=data, content_type=content_type, items=items, fmt=fmt)
        return [i.id for i in items], new if counted is None else counted

    async def accept_here(
        data: bytes, source: str, content_type: str | None, language: str | None, client: object
    ) -> tuple[list[str], int | None]:
        """``accept`` on the event loop, for a small body, with ``submit_async``."""
        assert submit_async is not None
        items, new, fmt = parsed(data, source, content_type, language)
        counted = await submit_async(
            source=source, data=data, content_type=content_type, items=items, fmt=fmt,
            client=client,
        )  # fmt: skip
        return [i.id for i in items], new if counted is None else counted

    async def post_bulletin(request: Request) -> Response:
        """Accept a text, RSS/Atom or JSON bulletin; 202 with its item ids and how many are new.

        A plain Starlette route: its one query parameter needs no FastAPI dependency solving or
        response encoding, which cost about a fifth of the API's time per POST in the event loop.
        """
        source = source_of(request)
        if not _SOURCE.match(source):
            raise HTTPException(400, "source must be 1-64 letters, digits, '_', '.' or '-'")
        src = sources.get(source)
        signed = bool(src and src.secret and request.headers.get(SIGNATURE_HEADER))
        if not signed:
            authorize(request)
        data = await read_capped(request, limit)
        if signed:
            check_signature(request, source, data)
        key = replay_key(request, source, signed)
        if key and replay_guard:
            seen: bool = await off_loop(replay_guard.seen, key)
            if seen:
                return JSONResponse(
                    {"status": "duplicate", "accepted": 0, "new": 0, "items": []}, 200
                )
        content_type = request.headers.get("content-type")
        # A big bulletin is parsed off the event loop (it must not stall /healthz and other
        # requests), in one hop: parse, count the new items, store and queue.
        language = src.language if src else None
        if submit_async is not None and count_new is None and len(data) <= INLINE_BODY_BYTES:
            client = request.scope.get("client")
            ids, new = await accept_here(data, source, content_type, language, client)
        else:
            ids, new = await off_loop(accept, data, source, content_type, language)
        if key and replay_guard:
            await off_loop(replay_guard.remember, key)
        body = {"status": "accepted", "accepted": len(ids), "new": new, "items": ids}
        # JSONResponse's bytes, without its json.dumps keyword handling per call.
        return Accepted(_ENCODE(body).encode())

    api.add_route(BULLETINS, post_bulletin, methods=["POST"])
    api.fast_path = (BULLETINS, post_bulletin)  # ahead of the middleware (alerts/api/fastpath.py)

    @api.get("/healthz")
    def healthz(request: Request) -> JSONResponse:
        """Liveness for anyone; Redis, workers and the rules' reload status with the token.
        Workers are alive when one answers a ping, or when tasks were taken within the last
        minute (``busy``: a solo worker answers no ping while its task runs)."""
        report = health()
        ok = bool(report.get("redis")) and bool(report.get("workers") or report.get("busy"))
        body = report if bearer_ok(request) else {"status": "ok" if ok else "degraded"}
        return JSONResponse(body, status_code=200 if ok else 503)

    @api.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        """Prometheus metrics of the API's processes and the queue, ledger and sources."""
        if metrics is None:
            raise HTTPException(404, "metrics are not enabled")
        body, content_type = metrics()
        return Response(body, media_type=content_type)

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


def _parse(
    data: bytes, source: str, content_type: str | None, language: str | None, settings: Settings
) -> tuple[list[Item], Format]:
    """The bulletin's items (``language``: the source's) and its format, or 400 (unreadable)
    / 413 (more than ``max_bulletin_items``)."""
    try:
        items, fmt = parse_bulletin_as(
            data, source=source, content_type=content_type, language=language
        )
    except ParseError as exc:
        parse_error(source_label(source))
        raise HTTPException(400, f"unreadable bulletin: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a parser's own limit: still the body's fault
        parse_error(source_label(source))
        raise HTTPException(400, f"unreadable bulletin: {type(exc).__name__}") from None
    cap = settings.max_bulletin_items
    if len(items) > cap:
        raise HTTPException(
            413, f"bulletin has {len(items)} items, over max_bulletin_items ({cap}): split it"
        )
    return items, fmt
