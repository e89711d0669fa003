"""Slack over HTTPS: certificates checked, proxies from the environment, kept-alive connections.

A throwaway self-signed CA (openssl) signs nothing else: the server presents it, and the client
trusts it only when ``SSL_CERT_FILE`` names it. The proxy is a local CONNECT tunnel.
"""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.clock import FrozenClock
from alerts.notify.base import SendResult
from alerts.notify.destinations import make_senders
from alerts.notify.render import Renderer
from alerts.notify.settings import NotifySettings
from alerts.notify.webhook_http import WebhookPoster, pool_manager, proxy_for
from tests.notify.conftest import NOW, make_alert
from tests.support.proxy import ConnectProxy
from tests.support.slack import SlackReply, SlackTestServer

TOKEN = "Zq7SECRETwebhookTOKEN9x"
WEBHOOK = f"slack://T0000AAAA/B0000BBBB/{TOKEN}"
HEADERS = {"Content-Type": "application/json"}
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    where = tmp_path_factory.mktemp("ca")
    cert, key = where / "ca.pem", where / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=bulletin-alerts test CA", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def https_slack(ca_pem: tuple[Path, Path]) -> Iterator[SlackTestServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*ca_pem)
    with SlackTestServer(tls=context) as server:
        yield server


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def trust_ca(monkeypatch: pytest.MonkeyPatch, ca_pem: tuple[Path, Path]) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem[0]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


def _send(server: SlackTestServer, **settings: float) -> SendResult:
    notify = NotifySettings(slack_webhook_base=server.webhook_base, **settings)
    (sender,) = make_senders(WEBHOOK, notify, FrozenClock(NOW))
    return sender.send(Renderer().render("slack", make_alert()))


def _no_token(result: SendResult, caplog: pytest.LogCaptureFixture) -> bool:
    texts = [result.error or "", caplog.text, *(r.getMessage() for r in caplog.records)]
    return not [t for t in texts if TOKEN in t]


@pytest.mark.usefixtures("trust_ca")
def test_https_to_a_trusted_ca_and_the_connection_is_reused(https_slack: SlackTestServer) -> None:
    assert _send(https_slack) == SendResult(ok=True)
    assert _send(https_slack) == SendResult(ok=True)
    first, second = https_slack.wait_for(2)
    assert first.path == f"/services/T0000AAAA/B0000BBBB/{TOKEN}"
    assert first.client_port == second.client_port  # one TCP (and TLS) connection for both


def test_an_unknown_ca_is_refused_retryably_without_the_token(
    https_slack: SlackTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    result = _send(https_slack)
    assert (result.ok, result.retryable) == (False, True)
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert https_slack.requests == []
    assert _no_token(result, caplog)


@pytest.mark.usefixtures("trust_ca")
def test_https_proxy_from_the_environment_is_used(
    https_slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("://", "://bob:pw@"))
        https_slack.script(SlackReply.rate_limited(3))
        result = _send(https_slack)
        assert (result.ok, result.retryable, result.retry_after) == (False, True, 3.0)
        assert _send(https_slack).ok
    assert proxy.asked == [f"CONNECT 127.0.0.1:{https_slack.port}"]  # one tunnel, reused
    assert proxy.headers[0]["proxy-authorization"] == "Basic Ym9iOnB3"
    assert len(https_slack.wait_for(2)) == 2


@pytest.mark.usefixtures("trust_ca")
def test_no_proxy_sends_directly(
    https_slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        assert _send(https_slack).ok
    assert proxy.asked == []


@pytest.mark.parametrize(
    ("env", "url", "proxy"),
    [
        ({"HTTPS_PROXY": "http://p:3128"}, "https://hooks.slack.com/x", "http://p:3128"),
        ({"HTTPS_PROXY": "http://p:3128"}, "http://hooks.slack.com/x", None),  # scheme's own
        ({"HTTP_PROXY": "http://p:3128"}, "http://hooks.slack.com/x", "http://p:3128"),
        ({"ALL_PROXY": "http://p:1"}, "https://hooks.slack.com/x", "http://p:1"),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".slack.com"}, "https://hooks.slack.com/", None),
        ({"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"}, "https://hooks.slack.com/", None),
    ],
)
def test_proxy_for(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], url: str, proxy: str | None
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url) == proxy


@pytest.mark.usefixtures("trust_ca")
def test_an_unreachable_proxy_is_retryable_without_the_token(
    https_slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with ConnectProxy() as proxy:
        closed = proxy.url
    monkeypatch.setenv("HTTPS_PROXY", closed)
    result = _send(https_slack)
    assert (result.ok, result.retryable) == (False, True)
    assert result.error and result.error.startswith("slack: ")
    assert _no_token(result, caplog)


@pytest.mark.usefixtures("trust_ca")
def test_a_redirect_is_not_followed_and_is_permanent(https_slack: SlackTestServer) -> None:
    https_slack.script(SlackReply(302, "", (("Location", "https://evil.example/"),)))
    result = _send(https_slack)
    assert (result.ok, result.retryable) == (False, False)
    assert len(https_slack.wait_for(1)) == 1


@pytest.mark.usefixtures("trust_ca")
def test_a_proxied_poster_keeps_its_pool_and_replaces_a_closed_one(
    https_slack: SlackTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ConnectProxy() as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        poster = WebhookPoster(f"{https_slack.webhook_base}/T0/B0/x", timeout=5.0)
        assert poster.post(b"{}", HEADERS).status == 200
        pool = poster._connections()
        assert poster.post(b"{}", HEADERS).status == 200
        assert poster._connections() is pool  # no lookup per send
        pool_manager(proxy.url).pools.clear()  # the manager drops its pools ...
        pool.close()  # ... and a dropped one is closed (PoolManager.clear, an older urllib3)
        assert poster.post(b"{}", HEADERS).status == 200  # nothing was sent on the closed pool
        assert poster._connections() is not pool
    assert len(https_slack.wait_for(3)) == 3
