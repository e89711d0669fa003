"""RFC 2047 encoded words in a title must not become headers in the bytes an SMTP server gets.

Python's email library before 3.11.10 (CVE-2024-6923) decodes encoded words in a header value
and writes a decoded CR LF out raw: a title could add ``Reply-To:``, a second ``From:``, or end
the headers and make attacker HTML the whole body.
"""

from __future__ import annotations

import base64

import pytest

from alerts.clock import FrozenClock
from alerts.notify.destinations import make_senders
from alerts.notify.escape import clean_header
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from tests.notify.conftest import NOW, make_alert
from tests.support.smtp import SmtpTestServer


def _b64(text: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


TITLES = {
    "q-reply-to": "Ceasefire =?utf-8?q?=0D=0AReply-To:_attacker@evil.example?= talks",
    "b-second-from": "Ceasefire " + _b64("\r\nFrom: ceo@victim.example") + " talks",
    "blank-line-body": "Ceasefire "
    + _b64("\r\n\r\n<html><a href='https://evil.example'>Reset your password</a></html>"),
    "spaces-inside": "Ceasefire =?utf-8?q?=0D=0A Bcc: all@victim.example?= talks",
    "nested": "Ceasefire =?utf-8?q?=3D=3Futf-8=3Fq=3F=3D0D=3D0AReply-To:_x@evil.example=3F=3D?=",
    "lower-level": "Ceasefire =?UTF-8*en?Q?=0A=0DX-Evil:_1?=",
}


def _headers(raw: bytes) -> list[bytes]:
    """The header lines of a raw message (up to the first blank line)."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    return [line for line in head.splitlines() if line and not line[:1].isspace()]


@pytest.mark.parametrize("name", sorted(TITLES))
def test_encoded_word_adds_no_header_at_the_smtp_server(name: str) -> None:
    alert = make_alert(title=TITLES[name], body="Officials said the ceasefire would hold.")
    message = Renderer().render("email", alert)
    with SmtpTestServer() as smtp:
        (sender,) = make_senders(smtp.apprise_url(), NotifySettings(), FrozenClock(NOW))
        assert sender.send(message).ok
        (mail,) = smtp.wait_for(1)
    names = [line.split(b":", 1)[0].lower() for line in _headers(mail.raw)]
    assert names.count(b"from") == 1, mail.raw
    assert b"reply-to" not in names and b"bcc" not in names and b"x-evil" not in names
    assert mail.message.get_content_type() == "multipart/alternative"
    html = mail.message.get_body(("html",))
    assert html is not None and "Officials said" in html.get_content()
    assert "<a href='https://evil.example'" not in html.get_content()
    subject = str(mail.message["Subject"])
    assert "\n" not in subject and "\r" not in subject
    assert subject.startswith("[Ceasefire] Ceasefire")


def test_clean_header_decodes_then_cleans_and_defuses_what_is_left() -> None:
    cleaned = clean_header(TITLES["q-reply-to"])
    assert cleaned == "Ceasefire Reply-To: attacker@evil.example talks"
    assert "=?" not in clean_header("a =?x-unknown?z?abc?= b")
    assert clean_header("plain title") == "plain title"
