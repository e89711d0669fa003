"""A RabbitMQ for tests: the one on 127.0.0.1:5672, with a throwaway virtual host per test.

Skips with a reason on a developer machine without one; in CI (``ALERTS_REQUIRE_RABBITMQ`` or
``CI`` set) it fails instead, since ``.ci/run`` makes sure one runs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

HOST, PORT = "127.0.0.1", int(os.environ.get("ALERTS_TEST_AMQP_PORT", "5672"))


def answers() -> bool:
    """True when something accepts connections on the AMQP port."""
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


def _missing(reason: str) -> None:
    if os.environ.get("ALERTS_REQUIRE_RABBITMQ") or os.environ.get("CI"):
        pytest.fail(f"CI: {reason}")
    pytest.skip(reason)


def ctl(*args: str) -> str:
    """Run ``rabbitmqctl ARGS`` and return its output."""
    done = subprocess.run(
        ["rabbitmqctl", *args], check=True, capture_output=True, text=True, timeout=120
    )
    return done.stdout


@contextmanager
def amqp_vhost() -> Iterator[str]:
    """``amqp://guest:guest@127.0.0.1:5672/VHOST`` on a fresh vhost, deleted afterwards."""
    if not answers():
        _missing(f"no RabbitMQ answers on {HOST}:{PORT}")
    if shutil.which("rabbitmqctl") is None:
        _missing("rabbitmqctl is needed to make a throwaway vhost")
    vhost = f"alerts-test-{uuid.uuid4().hex[:12]}"
    ctl("add_vhost", vhost)
    try:
        ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@{HOST}:{PORT}/{vhost}"
    finally:
        ctl("delete_vhost", vhost)


def queue_types(url: str) -> dict[str, str]:
    """Queue name -> type (``quorum``, ``classic``) in the URL's vhost."""
    vhost = url.rsplit("/", 1)[1]
    out = ctl("list_queues", "-p", vhost, "--no-table-headers", "--quiet", "name", "type")
    return dict(line.split("\t")[:2] for line in out.splitlines() if "\t" in line)
