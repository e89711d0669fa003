"""HTTPS to the checked address: the certificate and SNI still use the host name."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.ingest import FetchError
from alerts.ingest.fetch import Fetcher
from tests.ingest.httpserver import Route, Site, handler_for, local_resolver
from tests.support.http import LocalHTTPServer


def _cert(tmp: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp / f"{name}.key", tmp / f"{name}.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[tuple[Site, Path, list[str | None]]]:
    key, cert = _cert(tmp_path, "feeds.test")
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)  # type: ignore[assignment,misc,return-value]
    site = Site(routes={"/rss": Route(b"<rss version='2.0'><channel></channel></rss>")})
    server = LocalHTTPServer(("127.0.0.1", 0), handler_for(site))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield site, cert, names
    server.shutdown()
    server.server_close()


def test_https_to_the_checked_address_keeps_name_for_sni_and_certificate(
    tls_site: tuple[Site, Path, list[str | None]],
) -> None:
    site, cert, names = tls_site
    asked: list[str] = []
    fetcher = Fetcher(local_resolver(asked), verify=ssl.create_default_context(cafile=str(cert)))
    result = fetcher.fetch(f"https://feeds.test:{site.port}/rss", allow_private=True)
    assert result.status == 200 and result.content.startswith(b"<rss")
    assert asked == ["feeds.test"]  # resolved once, by our resolver
    assert names == ["feeds.test"]  # SNI carried the name, not 127.0.0.1
    assert site.requests[0][1]["host"] == f"feeds.test:{site.port}"


def test_certificate_for_another_name_is_refused(
    tls_site: tuple[Site, Path, list[str | None]], tmp_path: Path
) -> None:
    site, _, _ = tls_site
    _, other = _cert(tmp_path, "other.test")
    fetcher = Fetcher(local_resolver(), verify=ssl.create_default_context(cafile=str(other)))
    with pytest.raises(FetchError):
        fetcher.fetch(f"https://feeds.test:{site.port}/rss", allow_private=True)
    assert site.requests == []
