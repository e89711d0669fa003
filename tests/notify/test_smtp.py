"""Email through the real SMTP test server: multipart, classification by SMTP code, injection."""

from __future__ import annotations

import pytest

from alerts.clock import FrozenClock
from alerts.notify.base import SendResult
from alerts.notify.destinations import make_senders
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from alerts.notify.transport import Sender
from tests.notify.conftest import NOW, make_alert
from tests.support.smtp import SmtpTestServer


def _sender(url: str, **settings: float) -> Sender:
    (sender,) = make_senders(url, NotifySettings(**settings), FrozenClock(NOW))
    return sender


def _send(sender: Sender, alert=None, reply_to: str | None = None) -> SendResult:
    message = Renderer().render("email", alert or make_alert())
    return sender.send(message, reply_to=reply_to)


def test_delivers_a_multipart_email_with_credentials(smtp: SmtpTestServer) -> None:
    sender = _sender(smtp.apprise_url("desk@example.org", user="bob", password="s3cret-pw"))
    result = _send(sender)
    assert result.ok and result.thread_ref
    (mail,) = smtp.wait_for(1)
    assert smtp.auth_users == ["bob"]
    assert mail.rcpt_tos == ("desk@example.org",)
    assert mail.message["Subject"] == "[Ceasefire] Ceasefire talks resume in Geneva"
    assert mail.message["Message-ID"] == result.thread_ref
    assert mail.message["From"] == "bulletin-alerts <bulletin-alerts@example.org>"
    assert mail.message["Date"] == "Wed, 25 Nov 2026 09:30:00 +0000"  # the injected clock
    assert mail.message.get_content_type() == "multipart/alternative"
    plain = mail.message.get_body(("plain",))
    html = mail.message.get_body(("html",))
    assert plain is not None and html is not None
    assert "Officials said the [ceasefire] would hold" in plain.get_content()
    assert "<mark>ceasefire</mark>" in html.get_content()


def test_451_then_250_is_retryable_then_ok_and_one_email(smtp: SmtpTestServer) -> None:
    smtp.script("rcpt", "451 4.3.0 try again")
    sender = _sender(smtp.apprise_url())
    first = _send(sender)
    assert (first.ok, first.retryable) == (False, True)
    assert first.error.startswith("smtp 451 4.3.0 try again (mailto://")
    second = _send(sender)
    assert second.ok
    assert len(smtp.wait_for(1)) == 1


def test_554_at_data_is_permanent(smtp: SmtpTestServer) -> None:
    smtp.always("data", "554 5.7.1 rejected")
    result = _send(_sender(smtp.apprise_url()))
    assert (result.ok, result.retryable) == (False, False)
    assert result.error.startswith("smtp 554 5.7.1 rejected")
    assert smtp.messages == []


def test_421_at_mail_from_is_retryable(smtp: SmtpTestServer) -> None:
    smtp.script("mail", "421 4.7.0 too busy")
    result = _send(_sender(smtp.apprise_url()))
    assert (result.ok, result.retryable) == (False, True)


def test_550_for_every_recipient_is_permanent(smtp: SmtpTestServer) -> None:
    smtp.always("rcpt", "550 5.1.1 no such user")
    result = _send(_sender(smtp.apprise_url()))
    assert (result.ok, result.retryable) == (False, False)
    assert "550 5.1.1" in result.error


def test_connection_refused_is_retryable() -> None:
    server = SmtpTestServer().start()
    url = server.apprise_url()
    server.stop()
    result = _send(_sender(url, smtp_timeout=2.0))
    assert (result.ok, result.retryable) == (False, True)


def test_subject_injection_yields_one_subject_and_no_extra_recipient(smtp: SmtpTestServer) -> None:
    alert = make_alert(title="Ceasefire\r\n Bcc: victim@example.org\r\nX-Injected: yes")
    assert _send(_sender(smtp.apprise_url("desk@example.org")), alert).ok
    (mail,) = smtp.wait_for(1)
    assert mail.rcpt_tos == ("desk@example.org",)
    assert len(mail.message.get_all("Subject") or []) == 1
    assert mail.message.get_all("Bcc") is None and mail.message.get_all("X-Injected") is None
    header_block = mail.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\r\n Bcc:" not in header_block


def test_reply_to_threads_with_in_reply_to_and_references(smtp: SmtpTestServer) -> None:
    sender = _sender(smtp.apprise_url())
    first = _send(sender)
    second = _send(sender, reply_to=first.thread_ref)
    assert second.ok and second.thread_ref != first.thread_ref
    _, reply = smtp.wait_for(2)
    assert reply.message["In-Reply-To"] == first.thread_ref
    assert reply.message["References"] == first.thread_ref


@pytest.mark.parametrize("bad", ["<x@y>\r\nBcc: v@example.org", "1700000000.000100", "no-brackets"])
def test_reply_to_that_is_not_a_message_id_is_ignored(smtp: SmtpTestServer, bad: str) -> None:
    assert _send(_sender(smtp.apprise_url()), reply_to=bad).ok
    (mail,) = smtp.wait_for(1)
    assert mail.message["In-Reply-To"] is None
    assert mail.rcpt_tos == ("alerts@example.org",)


def test_apprise_itself_reports_451_and_554_alike(smtp: SmtpTestServer) -> None:
    # Why email has its own sender: Apprise's answer cannot tell temporary from permanent.
    import apprise

    answers = []
    for reply in ("451 4.3.0 try again", "554 5.7.1 rejected"):
        smtp.always("rcpt", reply)
        notifier = apprise.Apprise()
        notifier.add(smtp.apprise_url())
        answers.append(notifier.notify(body="b", title="t"))
    assert [bool(a) for a in answers] == [False, False]
    first, second = (a.status for a in answers)
    assert first == second
