"""The bulletin upload served ahead of FastAPI's middleware and router.

Each POST passed through six middleware layers and a route search over every API and console
route (about 0.2 ms of CPU per POST under uvicorn). ``Api`` answers ``POST /v1/bulletins``
before all that, with the same endpoint and the same error answers: ``HTTPException`` as
FastAPI's handler renders it, ``Unavailable`` as the 503 of ``outage``. Anything else raised
reaches uvicorn, which logs it and answers 500, as FastAPI's outermost middleware did. The
route stays registered too, so other methods still get FastAPI's 405.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from alerts.api.outage import Unavailable, unavailable_response

Endpoint = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")
# As many threads as anyio's default limit (starlette's run_in_threadpool), but without its
# cancel scope, limiter and backend lookups: about 20 µs of CPU less per hop.
_POOL = ThreadPoolExecutor(max_workers=40, thread_name_prefix="alerts-api")


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker thread, so blocking I/O and big parses never stall the loop."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args))


class Api(FastAPI):
    """FastAPI, with one POST route (``fast_path``) dispatched before the middleware stack."""

    fast_path: tuple[str, Endpoint] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The fast path's POSTs to its endpoint; anything else to FastAPI."""
        fast = self.fast_path
        if (
            fast is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != fast[0]
            or self.root_path
        ):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        request = Request(scope, receive, send)
        try:
            response = await fast[1](request)
        except HTTPException as exc:
            response = await http_exception_handler(request, exc)
        except Unavailable as exc:
            response = await unavailable_response(request, exc)
        await response(scope, receive, send)
