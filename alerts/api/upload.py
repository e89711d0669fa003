"""Reading an upload and answering it: the ``source`` parameter, the body under its cap, the 202.

Each is what Starlette's general form does (``QueryParams``, ``Request.stream``, ``Response``)
for the one shape every upload has, without the general form's per-request work.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.requests import ClientDisconnect
from starlette.responses import Response


class Accepted(Response):
    """A JSON answer of bytes already encoded, with the two headers ``Response`` would give it
    (``content-length``, then ``content-type``), made directly rather than by ``init_headers``."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 202) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]


def source_of(request: Request) -> str:
    """The ``source`` query parameter, "api" when absent. The usual query, one plain
    ``source=``, is read as it is: parsing it (``QueryParams``) cost 5 µs per POST."""
    query: bytes = request.scope.get("query_string", b"")
    if (
        query.startswith(b"source=")
        and b"&" not in query
        and b"%" not in query
        and b"+" not in query
    ):
        return query[7:].decode("latin-1")  # what QueryParams decodes it as
    return request.query_params.get("source", "api")


async def read_capped(request: Request, limit: int) -> bytes:
    """Read the body, refusing with 413 as soon as it passes ``limit`` (before it is all read).

    The ASGI messages are read as ``Request.stream`` reads them (a disconnect is
    ``ClientDisconnect``), without its async generator: a one-message body, every upload's,
    is returned as it came."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body over {limit} bytes")
    receive = request.receive
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.disconnect":
            raise ClientDisconnect()
        if kind != "http.request":
            continue  # as ``Request.stream``: no other message ends the body
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body over {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
