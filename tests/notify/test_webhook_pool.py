"""A webhook poster keeps its connection alive across sends (and across the senders of one
host), replaces an idle connection its peer closed without failing the send, and sends
what urllib3 sent (Host, length, identity encoding)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from alerts.notify.webhook_http import PostError, WebhookPoster
from tests.support.slack import SlackReply, SlackTestServer

HEADERS = {"Content-Type": "application/json"}


def test_one_connection_for_every_poster_of_a_host(slack: SlackTestServer) -> None:
    first = WebhookPoster(f"{slack.webhook_base}/T0/B0/x", timeout=5.0)
    second = WebhookPoster(f"{slack.webhook_base}/T0/B1/y", timeout=5.0)
    assert first.post(b"{}", HEADERS).status == 200
    assert second.post(b'{"a":1}', HEADERS).status == 200
    one, two = slack.wait_for(2)
    assert one.client_port == two.client_port
    assert (two.path, two.payload) == ("/services/T0/B1/y", {"a": 1})
    assert two.headers["Host"] == f"{slack.host}:{slack.port}"
    assert (two.headers["Content-Length"], two.headers["Accept-Encoding"]) == ("7", "identity")


def test_an_answer_that_closes_the_connection_is_read_and_not_reused(
    slack: SlackTestServer,
) -> None:
    poster = WebhookPoster(f"{slack.webhook_base}/T0/B0/x", timeout=5.0)
    slack.script(SlackReply(200, "ok", (("Connection", "close"),)))
    assert poster.post(b"{}", HEADERS).text == "ok"
    assert poster.post(b"{}", HEADERS).status == 200
    one, two = slack.wait_for(2)
    assert one.client_port != two.client_port


@pytest.fixture
def closing_server() -> Iterator[tuple[str, list[int]]]:
    """Answers one request per connection, keep-alive, then closes it (an idle timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    ports: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, (_, port) = listener.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data or not data.endswith(b"{}"):
                    data += conn.recv(4096)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            ports.append(port)  # after the close: the client waits for it

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook", ports
    listener.close()


def test_an_idle_connection_the_peer_closed_is_replaced(
    closing_server: tuple[str, list[int]],
) -> None:
    url, ports = closing_server
    poster = WebhookPoster(url, timeout=5.0)
    for sent in range(1, 4):
        answer = poster.post(b"{}", HEADERS)
        assert (answer.status, answer.body) == (200, b"ok")
        deadline = time.monotonic() + 5.0
        while len(ports) < sent and time.monotonic() < deadline:  # the server's close, else
            time.sleep(0.001)  # the next send may race it (no retry after sending, by design)
    assert len(set(ports)) == 3  # each send on a new connection, none failed


def test_a_header_with_a_line_break_is_refused(slack: SlackTestServer) -> None:
    poster = WebhookPoster(f"{slack.webhook_base}/T0/B0/x", timeout=5.0)
    with pytest.raises(ValueError, match="line break"):
        poster.post(b"{}", {"X-Evil": "a\r\nHost: evil"})
    assert slack.requests == []


def test_a_refused_connection_is_a_post_error_without_the_path() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    poster = WebhookPoster(f"http://127.0.0.1:{port}/services/SECRET", timeout=1.0)
    with pytest.raises(PostError) as caught:
        poster.post(b"{}", HEADERS)
    assert "SECRET" not in str(caught.value)


def test_each_post_carries_its_own_headers(slack: SlackTestServer) -> None:
    poster = WebhookPoster(f"{slack.webhook_base}/T0/B0/x", timeout=5.0)
    changing = dict(HEADERS)
    for value in ("a", "a", "b"):
        changing["X-Thing"] = value  # the same dict, changed between posts
        assert poster.post(b"{}", changing).status == 200
    with pytest.raises(ValueError, match="line break"):
        poster.post(b"{}", {**HEADERS, "X-Thing": "c\nHost: evil"})
    assert poster.post(b"{}", {"Content-Type": "text/plain"}).status == 200
    got = slack.wait_for(4)
    assert [r.headers.get("X-Thing") for r in got] == ["a", "a", "b", None]
    assert got[3].headers["Content-Type"] == "text/plain"
