"""The test servers themselves behave like the real peers they stand for."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import httpx
import pytest

from tests.support.slack import SlackReply, SlackTestServer
from tests.support.smtp import SmtpTestServer


def _mail(subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "a@example.org"
    msg["To"] = "b@example.org"
    msg["Subject"] = subject
    msg.set_content("hello")
    return msg


def test_smtp_records_parsed_message_and_envelope(smtp: SmtpTestServer) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        client.login("user", "pw")
        client.send_message(_mail("hi"))
    (mail,) = smtp.wait_for(1)
    assert mail.message["Subject"] == "hi"
    assert mail.mail_from == "a@example.org"
    assert mail.rcpt_tos == ("b@example.org",)
    assert smtp.auth_users == ["user"]


def test_smtp_scripted_rcpt_then_accept(smtp: SmtpTestServer) -> None:
    smtp.script("rcpt", "451 4.3.0 try again")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as info:
            client.send_message(_mail("one"))
        assert info.value.recipients["b@example.org"][0] == 451
        client.send_message(_mail("two"))
    assert [m.message["Subject"] for m in smtp.wait_for(1)] == ["two"]


def test_smtp_always_rejects_data(smtp: SmtpTestServer) -> None:
    smtp.always("data", "554 5.7.1 rejected")
    with (
        smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client,
        pytest.raises(smtplib.SMTPDataError) as info,
    ):
        client.send_message(_mail("x"))
    assert info.value.smtp_code == 554
    assert smtp.messages == []


def test_smtp_wait_for_is_bounded(smtp: SmtpTestServer) -> None:
    with pytest.raises(AssertionError, match="expected 1 SMTP messages, got 0"):
        smtp.wait_for(1, timeout=0.05)


def test_slack_records_and_answers_from_script(slack: SlackTestServer) -> None:
    slack.script(SlackReply.rate_limited(3), SlackReply.invalid_payload())
    url = f"{slack.webhook_base}/T1/B1/C1"
    first = httpx.post(url, json={"text": "a"})
    second = httpx.post(url, json={"text": "b"})
    third = httpx.post(url, json={"text": "c"})
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert (second.status_code, second.text) == (400, "invalid_payload")
    assert (third.status_code, third.text) == (200, "ok")
    reqs = slack.wait_for(3)
    assert [r.payload["text"] for r in reqs] == ["a", "b", "c"]
    assert reqs[0].path == "/services/T1/B1/C1"


def test_slack_web_api_returns_ts(slack: SlackTestServer) -> None:
    reply = httpx.post(f"http://{slack.host}:{slack.port}/api/chat.postMessage", json={})
    assert reply.json()["ok"] is True
    assert reply.json()["ts"]
