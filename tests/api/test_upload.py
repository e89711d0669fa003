"""Reading an upload's body from its ASGI messages, and the 202's own headers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from alerts.api.upload import Accepted, read_capped


def _request(
    *messages: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> Request:
    """A request whose ``receive`` hands out ``messages`` in order."""
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    scope = {"type": "http", "method": "POST", "headers": headers or [], "query_string": b""}
    return Request(scope, receive)


def _read(request: Request, limit: int = 100) -> bytes:
    return asyncio.run(read_capped(request, limit))


def test_a_one_message_body_is_returned_as_it_came() -> None:
    body = b'{"items": []}'
    assert _read(_request({"type": "http.request", "body": body})) is body


def test_a_body_in_several_messages_is_joined_in_order() -> None:
    request = _request(
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},  # an empty chunk: kept out
        {"type": "http.request", "body": b"cd"},
    )
    assert _read(request) == b"abcd"


def test_an_empty_body_is_empty() -> None:
    assert _read(_request({"type": "http.request"})) == b""


def test_a_disconnect_mid_body_is_client_disconnect() -> None:
    request = _request(
        {"type": "http.request", "body": b"ab", "more_body": True}, {"type": "http.disconnect"}
    )
    with pytest.raises(ClientDisconnect):
        _read(request)


def test_a_body_past_the_limit_is_413_before_it_is_all_read() -> None:
    request = _request(
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
        {"type": "http.request", "body": b"x" * 60, "more_body": True},
    )
    with pytest.raises(HTTPException) as caught:
        _read(request)
    assert caught.value.status_code == 413


def test_a_declared_length_past_the_limit_is_413_unread() -> None:
    request = _request(headers=[(b"content-length", b"101")])  # no message to read
    with pytest.raises(HTTPException) as caught:
        _read(request)
    assert caught.value.status_code == 413


@pytest.mark.parametrize("body", [b"", b'{"status":"accepted"}', "ü".encode() * 40])
def test_the_202_has_the_headers_a_json_response_would(body: bytes) -> None:
    expected = Response(body, 202, media_type="application/json")
    answer = Accepted(body)
    assert (answer.status_code, answer.body, answer.raw_headers) == (
        202,
        expected.body,
        expected.raw_headers,
    )
    assert answer.background is None
