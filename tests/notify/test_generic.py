"""Other Apprise URLs go through Apprise itself: its answer mapped to a SendResult."""

from __future__ import annotations

import socket

from alerts.clock import FrozenClock
from alerts.notify.destinations import make_senders
from alerts.notify.generic import AppriseSender
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from tests.notify.conftest import NOW, make_alert
from tests.support.slack import SlackReply, SlackTestServer


def _send(url: str):
    (sender,) = make_senders(url, NotifySettings(), FrozenClock(NOW))
    assert isinstance(sender, AppriseSender)
    return sender.send(Renderer().render(sender.kind, make_alert()))


def test_json_hook_gets_the_plain_text_rendering(slack: SlackTestServer) -> None:
    result = _send(f"json://{slack.host}:{slack.port}/hook")
    assert result.ok
    (request,) = slack.wait_for(1)
    assert request.path == "/hook"
    assert request.payload["title"] == "[Ceasefire] Ceasefire talks resume in Geneva"
    assert "Officials said the [ceasefire] would hold" in request.payload["message"]


def test_apprise_failure_is_retryable(slack: SlackTestServer) -> None:
    slack.always(SlackReply(status=400, body="bad"))
    result = _send(f"json://{slack.host}:{slack.port}/hook")
    assert (result.ok, result.retryable) == (False, True)
    assert result.error.startswith("apprise: FAILURE (json://")


def test_connection_refused_is_retryable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _send(f"json://127.0.0.1:{port}/hook")
    assert (result.ok, result.retryable) == (False, True)
