"""One HTTP/1.1 exchange on a kept-alive socket: the request in one write, the answer read back.

The webhook poster's direct wire (``webhook_http``). urllib3, and http.client under it, cost
about 0.2 ms of CPU per Slack POST (header validation, an email parser for the answer's
headers, response objects); a webhook POST is one fixed URL, headers of our own and an answer
of a few bytes. The answer is parsed by httptools (llhttp, in C): status line, headers, and a
body framed by ``Content-Length``, chunks or the connection's close (llhttp cannot be told of
the close, so that case is decided here from the headers); 1xx answers are skipped; HTTP/1.0
answers and ``Connection: close`` end the connection; a header's value is decoded only when
asked for. Anything malformed or larger than the limits raises ``BadAnswer`` (the caller drops
the socket); bytes after the answer leave the wire ``stale``.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import NamedTuple

import httptools

MAX_HEAD = 64 * 1024  # status line and headers
MAX_BODY = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class BadAnswer(Exception):
    """The peer's answer is not HTTP/1.x as this client reads it, or is too large."""


class Headers:
    """An answer's headers; ``get`` ignores the name's case (a repeated header: the last)."""

    def __init__(self, pairs: dict[bytes, bytes]) -> None:
        self._pairs = pairs  # lower-cased names, values as received (decoded when asked for)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value, or ``default``."""
        value = self._pairs.get(name.lower().encode("latin-1"))
        return default if value is None else value.decode("latin-1").strip()


class Reply(NamedTuple):
    """A parsed answer and whether the connection may carry another request (a tuple: see
    ``webhook_http.Answer``)."""

    status: int
    headers: Headers
    body: bytes
    reusable: bool


def connect(host: str, port: int, timeout: float, tls: ssl.SSLContext | None) -> Wire:
    """A connected wire (TLS with ``tls``, the host's name checked); ``timeout`` bounds the
    connect, the handshake and every later read or write."""
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=host)
    except BaseException:
        sock.close()
        raise
    return Wire(sock)


class Wire:
    """A socket, and whether its last answer came with bytes after it."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.extra = False
        self._poll: select.poll | None = None  # made and registered once, at the first check

    def stale(self) -> bool:
        """True when the idle connection has anything to read: closed by the peer (or out of
        step), so it must not carry a request (urllib3 checks a pooled connection the same
        way before reusing it)."""
        if self.extra or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return True
        if self._poll is None:
            poll = select.poll()
            try:
                poll.register(self.sock, select.POLLIN)
            except (OSError, ValueError):  # closed already
                return True
            self._poll = poll
        if self.sock.fileno() < 0:  # closed since it was registered
            return True
        return bool(self._poll.poll(0))

    def close(self) -> None:
        """Close the socket (nothing more is read or written)."""
        self.sock.close()

    def exchange(self, request: bytes) -> Reply:
        """Send ``request`` (a whole HTTP/1.1 message) and read its answer."""
        self.sock.sendall(request)
        answer = _Answer()
        parser = answer.parser = httptools.HttpResponseParser(answer)
        seen = 0
        while not answer.done:
            data = self.sock.recv(_CHUNK)
            if not data:
                return answer.at_close()
            seen += len(data)
            try:
                parser.feed_data(data)
            except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
                if not answer.done:
                    raise BadAnswer(f"malformed answer: {exc}") from None
                answer.extra = True  # bytes after the answer: the connection is out of step
            answer.check(seen)
        if answer.status == 101:
            raise BadAnswer("unexpected 101 Switching Protocols")
        self.extra = answer.extra
        return answer.reply(framed=True)


class _Answer:
    """llhttp's callbacks for one answer (1xx answers before it dropped); anything after it
    stops the parser and is remembered (``extra``: the wire is then stale)."""

    parser: httptools.HttpResponseParser

    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.parts: list[bytes] = []
        self.size = self.head_size = 0
        self.head = self.done = self.extra = self.keep = False
        self.status = 0

    def on_message_begin(self) -> None:
        if self.done:
            raise _After

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.lower()] = value
        self.head_size += len(name) + len(value) + 4

    def on_headers_complete(self) -> None:
        self.head = True

    def on_body(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # informational: the answer follows
            self.headers.clear()
            self.head, self.head_size = False, 0
            return
        keep = self.parser.should_keep_alive() and self.parser.get_http_version() == "1.1"
        self.status, self.keep, self.done = status, keep, True

    def check(self, seen: int) -> None:
        """Refuse an answer over the limits (after each read)."""
        if self.head_size > MAX_HEAD or (not self.head and seen > MAX_HEAD):
            raise BadAnswer("the answer's headers are too long")
        length = self.headers.get(b"content-length", b"").strip() if self.head else b""
        if self.size > MAX_BODY or (length.isdigit() and int(length) > MAX_BODY):
            raise BadAnswer("the answer is too large")

    def at_close(self) -> Reply:
        """The peer closed: the answer is whole only if its body runs to the close."""
        coding = self.headers.get(b"transfer-encoding")
        chunked = coding is not None and coding.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
        if not self.head or chunked or (coding is None and b"content-length" in self.headers):
            raise BadAnswer("the connection was closed before the answer was complete")
        self.status = self.parser.get_status_code()
        return self.reply(framed=False)

    def reply(self, *, framed: bool) -> Reply:
        """The answer as a ``Reply``."""
        reusable = framed and self.keep
        body = self.parts[0] if len(self.parts) == 1 else b"".join(self.parts)
        return Reply(self.status, Headers(self.headers), body, reusable)


class _After(Exception):
    """Stops the parser at bytes after the answer."""
