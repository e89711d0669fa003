"""Slack through the Slack-like test server: payload, escaping on the wire, classification."""

from __future__ import annotations

import socket

import apprise
import pytest

from alerts.clock import FrozenClock
from alerts.notify.base import SendResult
from alerts.notify.destinations import make_senders
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from alerts.notify.transport import Sender
from tests.notify.conftest import NOW, make_alert
from tests.support.slack import SlackReply, SlackTestServer

WEBHOOK = "slack://T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX"


def _senders(slack: SlackTestServer, url: str = WEBHOOK, **extra: float) -> list[Sender]:
    settings = NotifySettings(
        slack_webhook_base=slack.webhook_base,
        slack_api_base=f"http://{slack.host}:{slack.port}/api",
        **extra,
    )
    return make_senders(url, settings, FrozenClock(NOW))


def _send(sender: Sender, alert=None, reply_to: str | None = None) -> SendResult:
    return sender.send(Renderer().render("slack", alert or make_alert()), reply_to=reply_to)


def test_webhook_post_reaches_the_configured_base(slack: SlackTestServer) -> None:
    (sender,) = _senders(slack)
    result = _send(sender)
    assert result == SendResult(ok=True)
    (request,) = slack.wait_for(1)
    assert request.path == "/services/T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX"
    assert request.payload["mrkdwn"] is True
    assert request.payload["unfurl_links"] is False
    assert (
        "<https://www.bbc.co.uk/news/world-1|Ceasefire talks resume in Geneva>"
        in (request.payload["text"])
    )


def test_injection_never_goes_live_on_the_wire(slack: SlackTestServer) -> None:
    alert = make_alert(
        title="Ceasefire <!channel> <@U1>",
        body="the ceasefire <http://evil|bbc.co.uk> <!here>",
        url="https://www.bbc.co.uk/news/1",
    )
    (sender,) = _senders(slack)
    assert _send(sender, alert).ok
    text = slack.wait_for(1)[0].payload["text"]
    for live in ("<!channel>", "<@U1>", "<http://evil|bbc.co.uk>", "<!here>"):
        assert live not in text
    assert "&lt;http://evil|bbc.co.uk&gt;" in text


def test_429_is_retryable_with_retry_after(slack: SlackTestServer) -> None:
    slack.script(SlackReply.rate_limited(2))
    (sender,) = _senders(slack)
    result = _send(sender)
    assert (result.ok, result.retryable, result.retry_after) == (False, True, 2.0)
    assert result.error.startswith("slack 429 rate_limited (slack://")
    assert _send(sender).ok
    assert len(slack.wait_for(2)) == 2


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (SlackReply.invalid_payload(), "400 invalid_payload"),
        (SlackReply.channel_not_found(), "404"),
    ],
)
def test_invalid_payload_and_channel_not_found_are_permanent(
    slack: SlackTestServer, reply: SlackReply, code: str
) -> None:
    slack.always(reply)
    (sender,) = _senders(slack)
    result = _send(sender)
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith(f"slack {code}")


def test_500_is_retryable(slack: SlackTestServer) -> None:
    slack.script(SlackReply.server_error())
    (sender,) = _senders(slack)
    result = _send(sender)
    assert (result.ok, result.retryable, result.retry_after) == (False, True, None)


def test_a_timeout_is_retryable(slack: SlackTestServer) -> None:
    # A listening socket that never answers: the connection succeeds, the read times out.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings = NotifySettings(
            slack_webhook_base=f"http://127.0.0.1:{port}/services", http_timeout=0.2
        )
        (sender,) = make_senders(WEBHOOK, settings, FrozenClock(NOW))
        result = _send(sender)
    assert (result.ok, result.retryable, result.error[:13]) == (False, True, "slack timeout")


def test_one_sender_per_channel_so_channels_fail_independently(slack: SlackTestServer) -> None:
    senders = _senders(slack, WEBHOOK + "/#news/#desk")
    labels = [s.label.rsplit(" ", 1)[-1] for s in senders]
    assert sorted(labels) == ["[#desk]", "[#news]"]
    slack.script(SlackReply.ok(), SlackReply.channel_not_found())
    assert [_send(s).ok for s in senders] == [True, False]
    assert [f"[{r.payload['channel']}]" for r in slack.wait_for(2)] == labels


def test_bot_token_returns_ts_and_threads_replies(slack: SlackTestServer) -> None:
    (sender,) = _senders(slack, "slack://xoxb-1234-5678-abcdefgh/#news")
    first = _send(sender)
    assert first.ok and first.thread_ref
    second = _send(sender, reply_to=first.thread_ref)
    one, two = slack.wait_for(2)
    assert one.path == "/api/chat.postMessage"
    assert one.headers["Authorization"] == "Bearer xoxb-1234-5678-abcdefgh"
    assert "thread_ts" not in one.payload
    assert two.payload["thread_ts"] == first.thread_ref
    assert second.ok


def test_webhook_reply_to_sets_thread_ts_but_returns_no_ts(slack: SlackTestServer) -> None:
    (sender,) = _senders(slack)
    result = _send(sender, reply_to="1700000000.000100")
    assert result.thread_ref is None
    assert slack.wait_for(1)[0].payload["thread_ts"] == "1700000000.000100"


def test_apprise_itself_ignores_retry_after(slack: SlackTestServer) -> None:
    # Why Slack has its own sender: Apprise answers False and drops the 429's Retry-After.
    slack.script(SlackReply.rate_limited(7))
    plugin = apprise.Apprise.instantiate(WEBHOOK)
    assert plugin is not None
    plugin.webhook_url = slack.webhook_base  # type: ignore[attr-defined]
    notifier = apprise.Apprise()
    notifier.add(plugin)
    assert not notifier.notify(body="b", title="t")
    assert len(slack.wait_for(1)) == 1


@pytest.mark.parametrize(
    "url",
    [
        WEBHOOK,
        "slack://T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX/#alerts",
        "slack://bot@T0000AAAA/B0000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX/+C0123:1700000000.000100",
        "slack://xoxb-1234-1234-abc/@someone",
    ],
)
def test_the_body_is_json_dumps_of_the_payload_byte_for_byte(
    slack: SlackTestServer, url: str
) -> None:
    """The body is made from the text and the fields after it, encoded once per thread: the
    same bytes ``json.dumps(payload)`` writes, whatever the text, channel, user or thread."""
    import json

    from alerts.notify.render import Message
    from alerts.notify.slack import SlackSender
    from tests.notify.test_render_paths import PIECES, varied

    (sender,) = _senders(slack, url)
    assert isinstance(sender, SlackSender)
    renderer = Renderer()
    texts = [*PIECES, "\ud800 lone", '"\\\x00\x7f\u2028', "é" * 3000]
    texts += [renderer.render("slack", c).text for c in varied()[:120]]
    for number, text in enumerate(texts):
        message = Message("subject", text)
        for reply_to in (None, "1700000000.000200", "not a ts", ""):
            want = json.dumps(sender.payload(message, reply_to=reply_to)).encode()
            assert sender.body(message, reply_to=reply_to) == want, (number, reply_to)
