"""build_notifier from Settings: channels by name, independent destinations, console, secrets."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

from alerts.clock import FrozenClock
from alerts.errors import ConfigError
from alerts.notify.base import SendResult
from alerts.notify.settings import NotifySettings
from alerts.settings import Settings
from tests.notify.conftest import CANARY, NOW, make_alert, make_digest
from tests.support.slack import SlackReply, SlackTestServer
from tests.support.smtp import SmtpTestServer
from tests.support.wiring import notifier_from

WEBHOOK = "slack://T1111/B2222/C3333"


def _settings(channels: dict[str, list[str]], **notify: object) -> Settings:
    return Settings(channels=channels, notify=NotifySettings(**notify))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_channels_by_name_email_and_slack(smtp: SmtpTestServer, slack: SlackTestServer) -> None:
    settings = _settings(
        {"email": [smtp.apprise_url()], "slack": ["slack://T1111/B2222/C3333"]},
        slack_webhook_base=slack.webhook_base,
    )
    notifier = notifier_from(settings, clock=FrozenClock(NOW))
    alert = make_alert()
    assert notifier.send("email", alert).ok
    assert notifier.send("slack", alert).ok
    assert len(smtp.wait_for(1)) == 1 and len(slack.wait_for(1)) == 1


def test_unknown_channel_is_a_permanent_failure() -> None:
    result = notifier_from(_settings({})).send("nowhere", make_alert())
    assert result == SendResult(ok=False, error="unknown channel 'nowhere'")


def test_a_failing_destination_never_resends_the_one_that_succeeded(
    smtp: SmtpTestServer, slack: SlackTestServer
) -> None:
    settings = _settings(
        {"desk": [smtp.apprise_url(), "slack://T1111/B2222/C3333"]},
        slack_webhook_base=slack.webhook_base,
    )
    notifier = notifier_from(settings)
    slack.script(SlackReply.server_error(), SlackReply.server_error(), SlackReply.server_error())
    alert = make_alert()
    results = [notifier.send("desk", alert) for _ in range(4)]
    assert [(r.ok, r.retryable) for r in results] == [(False, True)] * 3 + [(True, False)]
    assert len(smtp.messages) == 1
    assert len(slack.wait_for(4)) == 4
    # Email's thread reference is kept even while Slack fails.
    assert results[0].thread_ref == smtp.messages[0].message["Message-ID"]


def test_retry_after_of_a_channel_is_the_longest_asked(slack: SlackTestServer) -> None:
    urls = ["slack://T1111/B2222/C3333/#a/#b"]
    notifier = notifier_from(_settings({"s": urls}, slack_webhook_base=slack.webhook_base))
    slack.script(SlackReply.rate_limited(3), SlackReply.rate_limited(5))
    result = notifier.send("s", make_alert())
    assert (result.ok, result.retryable, result.retry_after) == (False, True, 5.0)


def test_digest_by_email(smtp: SmtpTestServer) -> None:
    notifier = notifier_from(_settings({"email": [smtp.apprise_url()]}))
    assert notifier.send("email", make_digest()).ok
    (mail,) = smtp.wait_for(1)
    assert mail.message["Subject"] == "[Ceasefire] Held back by the throttle: 7 alerts"


def test_console_prints_a_readable_alert(capfd: pytest.CaptureFixture[str]) -> None:
    notifier = notifier_from(_settings({"console": ["console://"]}))
    assert notifier.send("console", make_alert()).ok
    out = capfd.readouterr().out
    assert "[Ceasefire] Ceasefire talks resume in Geneva" in out
    assert "Officials said the [ceasefire] would hold" in out
    assert "Terms: ceasefire" in out


def test_a_template_error_is_permanent_and_named(tmp_path: Path, smtp: SmtpTestServer) -> None:
    (tmp_path / "email_alert.txt.j2").write_text("{{ v.no_such_field }}")
    settings = _settings({"email": [smtp.apprise_url()]}, templates_dir=tmp_path)
    result = notifier_from(settings).send("email", make_alert())
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("template error (email): UndefinedError")


def test_invalid_urls_are_all_reported_without_secrets() -> None:
    settings = _settings(
        {"a": [f"nosuchscheme://user:{CANARY}@host/x"], "b": ["console://", f"slack://{CANARY}"]}
    )
    with pytest.raises(ConfigError) as info:
        notifier_from(settings)
    assert info.value.problems == [
        "channel 'a' URL #1: not a valid Apprise URL (scheme unknown or required parts missing)",
        "channel 'b' URL #2: not a valid Apprise URL (scheme unknown or required parts missing)",
    ]
    assert CANARY not in str(info.value)


def test_canary_secret_never_reaches_logs_output_or_errors(
    smtp: SmtpTestServer,
    slack: SlackTestServer,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    for name in ("", "apprise", "httpx", "httpcore", "urllib3", "alerts"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    channels = {
        "email": [smtp.apprise_url(user="bob", password=CANARY)],
        "slack": [f"slack://T{CANARY}/B{CANARY}/{CANARY}x/#news"],
        "json": [f"json://bob:{CANARY}@127.0.0.1:{_closed_port()}/hook"],
    }
    notifier = notifier_from(_settings(channels, slack_webhook_base=slack.webhook_base))
    smtp.script("rcpt", "451 4.3.0 try again")
    slack.script(SlackReply.rate_limited(1), SlackReply.invalid_payload())
    alert = make_alert()
    results = [notifier.send(ch, alert) for ch in ("email", "email", "slack", "slack", "slack")]
    results.append(notifier.send("json", alert))
    assert [r.ok for r in results] == [False, True, False, False, True, False]
    captured = capfd.readouterr()
    texts = [caplog.text, captured.out, captured.err, *(r.model_dump_json() for r in results)]
    texts += [record.getMessage() for record in caplog.records]
    assert not [t for t in texts if CANARY in t]
    # The logs did talk about these sends, in privacy form.
    assert '"POST /services/****/****/**** HTTP/1.1" 429' in caplog.text
    assert "mailto://bob:****@127.0.0.1" in caplog.text


@pytest.mark.parametrize(
    ("base", "ok"),
    [
        ("http://127.0.0.1:8025/services", True),
        ("http://localhost:8025/services/", True),
        ("http://[::1]:8025/services", True),
        ("https://hooks.example.org/services", True),
        ("http://hooks.example.org/services", False),  # plain http only on loopback
        ("ftp://127.0.0.1/services", False),
    ],
)
def test_slack_webhook_base_setting(base: str, ok: bool) -> None:
    if ok:
        assert NotifySettings(slack_webhook_base=base).slack_webhook_base == base.rstrip("/")
    else:
        with pytest.raises(ValidationError):
            NotifySettings(slack_webhook_base=base)


def test_slack_webhook_base_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, slack: SlackTestServer
) -> None:
    monkeypatch.setenv("ALERTS_NOTIFY__SLACK_WEBHOOK_BASE", slack.webhook_base)
    monkeypatch.delenv("ALERTS_CONFIG", raising=False)
    settings = Settings(channels={"slack": ["slack://T1111/B2222/C3333"]})
    assert settings.notify.slack_webhook_base == slack.webhook_base
    assert notifier_from(settings).send("slack", make_alert()).ok
    assert slack.wait_for(1)[0].path == "/services/T1111/B2222/C3333"


def test_an_alerts_send_line_is_debug_a_digests_info(
    slack: SlackTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    # A delivered alert is logged once at INFO by its delivery (with its ids); the notifier's
    # own line would be a second one per send.
    settings = _settings({"slack": [WEBHOOK]}, slack_webhook_base=slack.webhook_base)
    notifier = notifier_from(settings, clock=FrozenClock(NOW))
    caplog.set_level(logging.DEBUG, logger="alerts.notify.channels")
    assert notifier.send("slack", make_alert()).ok
    assert notifier.send("slack", make_digest()).ok
    ours = [r for r in caplog.records if r.name == "alerts.notify.channels"]
    levels = [(r.levelno, r.getMessage().split()[1]) for r in ours]
    assert levels == [(logging.DEBUG, "alert"), (logging.INFO, "digest")]


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (SendResult(ok=True, thread_ref="1.2"), SendResult(ok=True, thread_ref="1.2")),
        (SendResult(ok=True, error="note"), SendResult(ok=True, error="note")),
        (SendResult(ok=True, retryable=True, retry_after=3.0), SendResult(ok=True)),
        (SendResult(ok=False, error="x"), SendResult(ok=False, error="x")),
        (
            SendResult(ok=False, retryable=True, retry_after=2.0, error="y"),
            SendResult(ok=False, retryable=True, retry_after=2.0, error="y"),
        ),
        (SendResult(ok=False, retry_after=5.0, error="z"), SendResult(ok=False, error="z")),
    ],
)
def test_a_one_destination_channels_result_follows_the_combining_rules(
    result: SendResult, expected: SendResult
) -> None:
    from alerts.notify.channels import combine

    assert combine([result]) == expected
    assert combine([result, SendResult(ok=True)]) == expected  # the same as with a second one
