"""The tests' helpers leave nothing in the temporary folder once they are stopped."""

from __future__ import annotations

import sys

from tests.support.processes import Service
from tests.support.redis_server import RedisServer


def test_a_stopped_service_keeps_its_output_but_not_its_log_file() -> None:
    service = Service("echo", [sys.executable, "-c", "print('hello')"], {}).start()
    assert service.proc is not None
    service.proc.wait(30)
    service.stop()
    assert not service.log.exists()
    assert service.output().strip() == "hello"


def test_a_closed_redis_server_removes_its_folder() -> None:
    server = RedisServer().start()
    server.stop()
    assert server.dir.exists()  # a stopped server may start again on its data
    server.close()
    assert not server.dir.exists()
