"""A local HTTP server that behaves like a Slack incoming webhook, for tests.

Usage::

    with SlackTestServer() as slack:
        slack.script(SlackReply.rate_limited(2), SlackReply.ok())   # first 429 Retry-After: 2
        settings = ... notify={"slack_webhook_base": slack.webhook_base} ...
        ... send to "slack://T000/B000/XXXX/#alerts" ...
        requests = slack.wait_for(1)

Every POST is recorded (monotonic time received, path, headers, parsed JSON). Replies come from a
one-shot queue, else the standing reply (``ok`` by default). It also answers
``/api/chat.postMessage`` like Slack's Web API (``{"ok": true, "ts": ...}``) when the reply is 200.
"""

from __future__ import annotations

import itertools
import json
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.http import LocalHTTPServer


@dataclass(frozen=True)
class SlackReply:
    """One scripted answer: status, body and extra headers."""

    status: int = 200
    body: str = "ok"
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def ok(cls) -> SlackReply:
        """200 ``ok``: what a webhook answers on success."""
        return cls()

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> SlackReply:
        """429 with ``Retry-After``."""
        return cls(429, "rate_limited", (("Retry-After", str(retry_after)),))

    @classmethod
    def invalid_payload(cls) -> SlackReply:
        """400 ``invalid_payload``."""
        return cls(400, "invalid_payload")

    @classmethod
    def channel_not_found(cls) -> SlackReply:
        """404 ``channel_not_found``."""
        return cls(404, "channel_not_found")

    @classmethod
    def server_error(cls) -> SlackReply:
        """500, as Slack answers when it is in trouble."""
        return cls(500, "internal_error")


@dataclass(frozen=True)
class SlackRequest:
    """One request the server received."""

    received_at: float
    path: str
    headers: dict[str, str]
    payload: Any
    raw: bytes = field(repr=False, default=b"")
    client_port: int = 0  # the client's TCP port: one port for many requests is a reused connection


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # Keep-alive, as Slack's endpoints do: an HTTP/1.0 server closing every connection would
    # make each send pay a TCP connect that real deliveries reuse.
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK stall every kept-alive reply by ~40 ms.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        """Record the request, then answer with the next scripted reply."""
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        owner = self.server.owner
        headers, port = dict(self.headers.items()), self.client_address[1]
        reply = owner._take(SlackRequest(time.monotonic(), self.path, headers, payload, raw, port))
        body = reply.body
        if reply.status == 200 and self.path.startswith("/api/"):
            body = json.dumps({"ok": True, "channel": "C0TEST", "ts": owner._next_ts()})
        data = body.encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log (keeps test output readable)."""


class _Server(LocalHTTPServer):
    daemon_threads = True
    owner: SlackTestServer


class SlackTestServer:
    """ThreadingHTTPServer on a free 127.0.0.1 port, served from a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.tls = tls  # serve HTTPS with this server-side context
        self._lock = threading.Condition()
        self._requests: list[SlackRequest] = []
        self._queue: deque[SlackReply] = deque()
        self._standing = SlackReply.ok()
        self._ts = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SlackTestServer:
        """Bind and serve in the background."""
        server = _Server((self.host, 0), _Handler)
        server.owner = self
        if self.tls is not None:  # the handshake runs in the request's thread, on first read
            server.socket = self.tls.wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    @property
    def webhook_base(self) -> str:
        """Value for ``ALERTS_NOTIFY__SLACK_WEBHOOK_BASE`` (stands for hooks.slack.com/services)."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}:{self.port}/services"

    def script(self, *replies: SlackReply) -> None:
        """Queue one-shot replies, used in order before the standing reply."""
        with self._lock:
            self._queue.extend(replies)

    def always(self, reply: SlackReply) -> None:
        """Answer every request with ``reply`` once the queue is empty."""
        with self._lock:
            self._standing = reply

    def reset(self) -> None:
        """Forget requests and scripts; answer ``ok`` again."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._standing = SlackReply.ok()

    @property
    def requests(self) -> list[SlackRequest]:
        """A snapshot of every request received, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_since(self, n: int) -> list[SlackRequest]:
        """The requests after the first ``n`` (no copy of the whole list)."""
        with self._lock:
            return self._requests[n:]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[SlackRequest]:
        """Wait until at least ``count`` requests arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} Slack requests, got {len(self._requests)}"
                    )
                self._lock.wait(left)
            return list(self._requests)

    def _take(self, request: SlackRequest) -> SlackReply:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()
            return self._queue.popleft() if self._queue else self._standing

    def _next_ts(self) -> str:
        with self._lock:
            return f"1700000000.{next(self._ts):06d}"
