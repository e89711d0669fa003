"""``rediss://``: broker, stores and beat reach a TLS-only Redis (certificate checked)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alerts.redis_conn import connect
from tests.support.ha import ha_run
from tests.support.redis_server import free_port, redis_binary

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[str]:
    """A redis-server listening only on TLS, with a self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "redis.key", tmp_path / "redis.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [redis_binary(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
         "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"rediss://127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={cert}"
    deadline = time.monotonic() + 10
    while True:
        try:
            connect(url).ping()
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip("this redis-server was built without TLS")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)


def test_everything_runs_over_tls(tmp_path: Path, tls_redis: str) -> None:
    with ha_run(tmp_path, tls_redis, 40, {"w1": ()}) as run:
        run.feed(rate=5.0).join()
        run.wait_delivered(timeout=120)
        counts = run.counts(connect(tls_redis))
        assert counts["lost"] == 0, counts
        assert counts["duplicates"] == 0, counts
        run.others[-1].wait_for_output("Acquired lock")  # RedBeat's lock, over TLS too
