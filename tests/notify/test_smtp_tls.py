"""STARTTLS against the real SMTP server with a throwaway self-signed certificate."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.notify.destinations import make_senders
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from tests.notify.conftest import NOW, make_alert
from tests.support.smtp import SmtpTestServer


@pytest.fixture(scope="module")
def tls_context(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    where: Path = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def tls_smtp(tls_context: ssl.SSLContext) -> Iterator[SmtpTestServer]:
    with SmtpTestServer(tls_context=tls_context) as server:
        yield server


def _send(url: str):
    (sender,) = make_senders(url, NotifySettings(), FrozenClock(NOW))
    return sender.send(Renderer().render("email", make_alert()))


def _url(server: SmtpTestServer, verify: str) -> str:
    return (
        f"mailtos://bob:pw-123456@{server.host}:{server.port}"
        f"?from=alerts@example.org&to=desk@example.org&mode=starttls&verify={verify}"
    )


def test_starttls_then_login_then_send(tls_smtp: SmtpTestServer) -> None:
    assert _send(_url(tls_smtp, "no")).ok
    assert tls_smtp.wait_for(1)[0].rcpt_tos == ("desk@example.org",)
    assert tls_smtp.auth_users == ["bob"]


def test_an_untrusted_certificate_is_a_permanent_failure(tls_smtp: SmtpTestServer) -> None:
    result = _send(_url(tls_smtp, "yes"))
    assert (result.ok, result.retryable) == (False, False)
    assert "SSLCertVerificationError" in result.error
    assert tls_smtp.messages == []
