"""One HTTP/1.1 exchange on a kept-alive socket: the request in one write, the answer read back.

The webhook poster's direct wire (``webhook_http``). urllib3, and http.client under it, cost
about 0.2 ms of CPU per Slack POST (header validation, an email parser for the answer's
headers, response objects); a webhook POST is one fixed URL, headers of our own and an answer
of a few bytes, which this reads in about a sixth of that. Its scope is what a POST needs:
a status line, headers, and a body framed by ``Content-Length``, chunks or the connection's
close; 1xx answers are skipped; HTTP/1.0 answers and ``Connection: close`` end the connection.
Anything malformed or larger than the limits raises ``BadAnswer`` (the caller drops the socket).
"""

from __future__ import annotations

import select
import socket
import ssl
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # status line and headers
MAX_BODY = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class BadAnswer(Exception):
    """The peer's answer is not HTTP/1.x as this client reads it, or is too large."""


class Headers:
    """An answer's headers; ``get`` ignores the name's case (a repeated header: the last)."""

    def __init__(self, pairs: dict[str, str]) -> None:
        self._pairs = pairs  # lower-cased names

    def get(self, name: str, default: str | None = None) -> str | None:
        """The header's value, or ``default``."""
        return self._pairs.get(name.lower(), default)


@dataclass(frozen=True)
class Reply:
    """A parsed answer and whether the connection may carry another request."""

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
    """A socket and the bytes read from it but not yet used."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()

    def stale(self) -> bool:
        """True when the idle connection has anything to read: closed by the peer (or out of
        step), so it must not carry a request (urllib3 checks a pooled connection the same
        way before reusing it)."""
        if self._buf or (isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()):
            return True
        poll = select.poll()
        try:
            poll.register(self.sock, select.POLLIN)
        except (OSError, ValueError):  # closed already
            return True
        return bool(poll.poll(0))

    def close(self) -> None:
        """Close the socket (nothing more is read or written)."""
        self.sock.close()

    def exchange(self, request: bytes) -> Reply:
        """Send ``request`` (a whole HTTP/1.1 message) and read its answer."""
        self.sock.sendall(request)
        while True:
            version, status, headers = self._head()
            if not 100 <= status < 200:
                break
            if status == 101:
                raise BadAnswer("unexpected 101 Switching Protocols")
        body, framed = self._body(status, headers)
        tokens = {t.strip() for t in (headers.get("connection") or "").lower().split(",")}
        reusable = framed and version == "HTTP/1.1" and "close" not in tokens
        return Reply(status, Headers(headers), body, reusable)

    def _fill(self) -> None:
        data = self.sock.recv(_CHUNK)
        if not data:
            raise BadAnswer("the connection was closed before the answer was complete")
        self._buf += data

    def _take(self, n: int) -> bytes:
        while len(self._buf) < n:
            self._fill()
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _until(self, mark: bytes, what: str) -> bytes:
        """The bytes before ``mark`` (taken with it), read as they come: at most MAX_HEAD."""
        start = 0
        while (end := self._buf.find(mark, start)) < 0:
            if len(self._buf) > MAX_HEAD:
                raise BadAnswer(f"{what} too long")
            start = max(0, len(self._buf) - len(mark) + 1)
            self._fill()
        return self._take(end + len(mark))[: -len(mark)]

    def _line(self) -> bytes:
        return self._until(b"\r\n", "a line of the answer is")

    def _head(self) -> tuple[str, int, dict[str, str]]:
        lines = self._until(b"\r\n\r\n", "the answer's headers are").decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if version not in ("HTTP/1.1", "HTTP/1.0") or not (code.isdigit() and len(code) == 3):
            raise BadAnswer(f"not an HTTP/1.x status line: {lines[0][:40]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon or not name or name != name.strip():
                raise BadAnswer(f"malformed header line: {line[:40]!r}")
            headers[name.lower()] = value.strip()
        return version, int(code), headers

    def _body(self, status: int, headers: dict[str, str]) -> tuple[bytes, bool]:
        """The body and whether its end was framed (else it ran to the connection's close)."""
        if status in (204, 304):
            return b"", True
        coding = headers.get("transfer-encoding")
        if coding is not None:
            if coding.lower().rsplit(",", 1)[-1].strip() != "chunked":
                return self._to_close(), False
            return self._chunked(), True
        length = headers.get("content-length")
        if length is None:
            return self._to_close(), False
        if not length.isdigit() or int(length) > MAX_BODY:
            raise BadAnswer(f"bad Content-Length {length[:20]!r}")
        return self._take(int(length)), True

    def _chunked(self) -> bytes:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self._line().split(b";", 1)[0].strip()
            try:
                n = int(line, 16)
            except ValueError:
                raise BadAnswer("bad chunk size") from None
            if n < 0 or size + n > MAX_BODY:
                raise BadAnswer("the answer is too large")
            if n == 0:
                while self._line():  # the trailer, up to its empty line
                    pass
                return b"".join(parts)
            parts.append(self._take(n))
            size += n
            if self._take(2) != b"\r\n":
                raise BadAnswer("a chunk does not end with CRLF")

    def _to_close(self) -> bytes:
        while data := self.sock.recv(_CHUNK):
            self._buf += data
            if len(self._buf) > MAX_BODY:
                raise BadAnswer("the answer is too large")
        return self._take(len(self._buf))
