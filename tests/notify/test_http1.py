"""The webhook poster's HTTP/1.1 wire, against canned answers on a socket pair."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from alerts.notify.http1 import MAX_BODY, MAX_HEAD, BadAnswer, Reply, Wire

REQUEST = b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
def pair() -> Iterator[tuple[Wire, socket.socket]]:
    ours, peer = socket.socketpair()
    ours.settimeout(2.0)
    yield Wire(ours), peer
    ours.close()
    peer.close()


def _answer(pair: tuple[Wire, socket.socket], raw: bytes, *, close: bool = False) -> Reply:
    wire, peer = pair
    peer.sendall(raw)
    if close:
        peer.shutdown(socket.SHUT_WR)
    reply = wire.exchange(REQUEST)
    assert peer.recv(4096) == REQUEST  # the request went out whole
    return reply


def test_content_length_and_headers_any_case(pair: tuple[Wire, socket.socket]) -> None:
    raw = b"HTTP/1.1 429 Too Many\r\nretry-AFTER: 3\r\nContent-Length: 12\r\n\r\nrate_limited"
    reply = _answer(pair, raw)
    assert (reply.status, reply.body, reply.reusable) == (429, b"rate_limited", True)
    assert reply.headers.get("Retry-After") == "3"
    assert reply.headers.get("X-None") is None
    assert not pair[0].stale()  # nothing left over: the connection can carry the next one


def test_chunked_with_extensions_and_a_trailer(pair: tuple[Wire, socket.socket]) -> None:
    raw = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b'3;x=y\r\n{"o\r\n9\r\nk": true}\r\n0\r\nX-Trailer: 1\r\n\r\n'
    )
    reply = _answer(pair, raw)
    assert (reply.status, reply.body, reply.reusable) == (200, b'{"ok": true}', True)


def test_informational_answers_are_skipped(pair: tuple[Wire, socket.socket]) -> None:
    raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert _answer(pair, raw).body == b"ok"


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.1 200 OK\r\n\r\nok",  # no length: the body runs to the close
    ],
)
def test_a_connection_the_answer_ends_is_not_reused(
    pair: tuple[Wire, socket.socket], raw: bytes
) -> None:
    reply = _answer(pair, raw, close=True)
    assert (reply.status, reply.body, reply.reusable) == (200, b"ok", False)


def test_no_body_for_204(pair: tuple[Wire, socket.socket]) -> None:
    reply = _answer(pair, b"HTTP/1.1 204 No Content\r\n\r\n")
    assert (reply.status, reply.body, reply.reusable) == (204, b"", True)


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok",  # cut short
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1),
        b"HTTP/1.1 200 OK\r\n",  # the headers never end
    ],
)
def test_a_malformed_or_oversized_answer_is_refused(
    pair: tuple[Wire, socket.socket], raw: bytes
) -> None:
    with pytest.raises(BadAnswer):
        _answer(pair, raw, close=True)


def test_a_timeout_is_raised_as_one(pair: tuple[Wire, socket.socket]) -> None:
    wire, _ = pair
    wire.sock.settimeout(0.1)
    with pytest.raises(TimeoutError):
        wire.exchange(REQUEST)


def test_stale_when_the_peer_closed_or_sent_unasked(pair: tuple[Wire, socket.socket]) -> None:
    wire, peer = pair
    assert not wire.stale()
    peer.sendall(b"HTTP/1.1 408 Request Timeout\r\n\r\n")  # an idle timeout's last word
    assert wire.stale()
    fresh, other = socket.socketpair()
    with fresh, other:
        other.close()
        assert Wire(fresh).stale()


def test_bytes_after_the_answer_leave_the_wire_stale(pair: tuple[Wire, socket.socket]) -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 408 Request Timeout\r\n\r\n"
    reply = _answer(pair, raw)
    assert (reply.status, reply.body, reply.reusable) == (200, b"ok", True)
    assert pair[0].stale()  # out of step: must not carry the next request


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * MAX_HEAD + b"\r\n\r\n",
    ],
)
def test_an_upgrade_or_an_oversized_head_is_refused(
    pair: tuple[Wire, socket.socket], raw: bytes
) -> None:
    with pytest.raises(BadAnswer):
        _answer(pair, raw, close=True)


def test_a_body_coded_but_not_chunked_runs_to_the_close(
    pair: tuple[Wire, socket.socket],
) -> None:
    raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nX-Pad:  v \r\n\r\nok"
    reply = _answer(pair, raw, close=True)
    assert (reply.status, reply.body, reply.reusable) == (200, b"ok", False)
    assert reply.headers.get("x-pad") == "v"


def test_http10_keep_alive_is_not_reused(pair: tuple[Wire, socket.socket]) -> None:
    raw = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok"
    assert _answer(pair, raw).reusable is False
