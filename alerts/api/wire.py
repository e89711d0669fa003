"""uvicorn's httptools protocol, writing a response's head and its body in one ``write``.

uvicorn writes the status line and headers when the app sends ``http.response.start``, and
the body with ``http.response.body``: two socket writes (two system calls, two TCP segments
on the wire) per answer, where the 202 of an upload is one small buffer. Here a response that
declares its ``content-length`` has its head held until its body is written, and both go in
one write. Anything else (a streamed answer, a HEAD, the interim ``100 Continue``) is written
as uvicorn writes it. ``alerts api`` runs this protocol when httptools is installed
(``alerts.commands.main.uvicorn_options``).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

_SIZED = b"\r\ncontent-length: "  # uvicorn writes header names in lower case
_CONTINUE = b"HTTP/1.1 100 "


class HeadWithBody:
    """A cycle's transport: the first write of a sized response's head is held and written
    with the next write (its body), or before the transport is closed."""

    __slots__ = ("head", "started", "transport")

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.head: bytes | None = None
        self.started = False  # the head was seen (held or written)

    def write(self, data: bytes) -> None:
        """Hold a sized head; write anything else, after the held head."""
        if self.head is not None:
            data, self.head = self.head + data, None
        elif not self.started and not data.startswith(_CONTINUE):
            self.started = True
            if _SIZED in data:
                self.head = data
                return
        self.transport.write(data)

    def close(self) -> None:
        """Write what is held, then close."""
        if self.head is not None:
            head, self.head = self.head, None
            self.transport.write(head)
        self.transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, each request's cycle writing through ``HeadWithBody``."""

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if cycle.scope["method"] != "HEAD":  # a HEAD's head has no body write to go with
            cycle.transport = HeadWithBody(cycle.transport)  # type: ignore[assignment]
        super()._start_asgi_task(cycle, app)
