"""``alerts.api.wire``: a sized response's head and body in one write, anything else as uvicorn
writes it; and ``alerts api`` runs it under uvicorn (one write per 202 on a real socket)."""

from __future__ import annotations

import socket
import sys
import threading
import time
from typing import Any

import pytest
import uvicorn

from alerts.api.wire import HeadWithBody, Protocol
from alerts.commands.main import uvicorn_options
from alerts.settings import Settings

HEAD = b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\n"


class Recording:
    """A transport that records its writes and whether it was closed."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def test_a_sized_head_goes_with_its_body_in_one_write() -> None:
    t = Recording()
    held = HeadWithBody(t)
    held.write(HEAD)
    assert t.writes == []
    held.write(b"ok")
    assert t.writes == [HEAD + b"ok"]
    held.write(b"more")  # nothing held any longer
    assert t.writes == [HEAD + b"ok", b"more"]


def test_a_streamed_head_is_written_at_once() -> None:
    t = Recording()
    held = HeadWithBody(t)
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    held.write(chunked)
    held.write(b"2\r\nok\r\n")
    assert t.writes == [chunked, b"2\r\nok\r\n"]


def test_100_continue_is_written_at_once_and_the_head_after_it_held() -> None:
    t = Recording()
    held = HeadWithBody(t)
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    held.write(HEAD)
    held.write(b"ok")
    assert t.writes == [b"HTTP/1.1 100 Continue\r\n\r\n", HEAD + b"ok"]


def test_closing_writes_the_held_head_first() -> None:
    t = Recording()
    held = HeadWithBody(t)
    held.write(HEAD)
    held.close()
    assert t.writes == [HEAD] and t.closed
    assert held.is_closing()  # the rest is the transport's


def test_alerts_api_runs_the_protocol() -> None:
    options = uvicorn_options(Settings(), host=None, port=None, workers=None)
    assert options["http"] == "alerts.api.wire:Protocol"


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    head = [(b"content-length", b"2")] if scope["path"] == "/sized" else []
    await send({"type": "http.response.start", "status": 202, "headers": head})
    await send({"type": "http.response.body", "body": b"ok"})


_writes: list[bytes] = []  # what the server's socket transports were given


class Spied:
    """The connection's real transport, its writes recorded."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        _writes.append(data)
        self.transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


class SpiedProtocol(Protocol):
    def connection_made(self, transport: Any) -> None:
        super().connection_made(Spied(transport))


def _answer(port: int, request: bytes) -> bytes:
    """The server's answer to ``request`` (read until it is quiet for a moment)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        sock.settimeout(0.5)
        out = b""
        try:
            while chunk := sock.recv(65536):
                out += chunk
        except TimeoutError:
            pass
        return out


def test_under_uvicorn_a_sized_answer_is_one_write_and_the_others_as_before() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(_app, http=SpiedProtocol, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)
        sized = _answer(port, b"POST /sized HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert sized.startswith(b"HTTP/1.1 202") and sized.endswith(b"\r\n\r\nok")
        assert _writes == [sized]  # head and body in one write (two with uvicorn's own)
        streamed = _answer(port, b"GET /s HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"transfer-encoding: chunked" in streamed and streamed.endswith(b"0\r\n\r\n")
        assert len(_writes) == 3  # its head at once, then its chunk
        head = _answer(port, b"HEAD /sized HTTP/1.1\r\nHost: x\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 202") and head.endswith(b"\r\n\r\n")
    finally:
        server.should_exit = True
        thread.join(5)


def test_without_httptools_uvicorn_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "alerts.api.wire", None)  # as an import that fails
    options = uvicorn_options(Settings(), host=None, port=None, workers=None)
    assert options["http"] == "auto"
