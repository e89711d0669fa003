"""Fixtures for tests that run the real service: worker and API processes, SMTP and Slack fakes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection

from tests.support.processes import (
    Service,
    service_env,
    start_api,
    start_worker,
    write_config,
)
from tests.support.redis_server import free_port
from tests.support.slack import SlackTestServer
from tests.support.smtp import SmtpTestServer
from workers.redis_transport import transport_for

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "e2e-token-not-a-secret"


@dataclass
class Stack:
    """A running service: its API URL, sinks and processes."""

    api: str
    smtp: SmtpTestServer
    slack: SlackTestServer
    worker: Service
    env: dict[str, str]
    redis: redis.Redis
    services: tuple[Service, ...] = ()  # worker, API, beat when asked

    def headers(self) -> dict[str, str]:
        """Bearer auth for the API."""
        return {"Authorization": f"Bearer {TOKEN}"}

    def queue_drained(self) -> bool:
        """True when no task is queued or unacknowledged in Redis."""
        return not self.redis.llen("alerts") and not self.redis.hlen("unacked")


@contextmanager
def running_stack(
    tmp_path: Path, redis_url: str, client: redis.Redis, *, beat: bool = False, **settings: Any
) -> Iterator[Stack]:
    """Worker + API (+ beat) on the test Redis; email to a real SMTP server, Slack to a fake."""
    with SmtpTestServer() as smtp, SlackTestServer() as slack:
        settings.setdefault("rules_dir", str(ROOT / "rules"))
        channels = settings.pop("channels", None)
        default = {
            "email": smtp.apprise_url("desk@example.org"),
            "slack": "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX",
            "digest": "console://",
        }
        # A test may pass channels, or a function of the two sinks that returns them.
        settings["channels"] = channels(smtp, slack) if callable(channels) else channels or default
        config = write_config(tmp_path, api_token=TOKEN, **settings)
        env = service_env(config, redis_url, ALERTS_NOTIFY__SLACK_WEBHOOK_BASE=slack.webhook_base)
        services: list[Service] = [start_worker(env)]
        try:
            port = free_port()
            services.append(start_api(env, port))
            if beat:
                argv = [sys.executable, "-m", "alerts", "beat", "--schedule",
                        str(tmp_path / "beat-schedule")]  # fmt: skip
                services.append(Service("beat", argv, env).start())
            api = f"http://127.0.0.1:{port}"
            yield Stack(api, smtp, slack, services[0], env, client, tuple(services))
        finally:
            for service in reversed(services):
                service.stop()
            print(services[0].output())  # shown by pytest when the test failed


@pytest.fixture
def conn(redis_url: str, redis_client: redis.Redis) -> Iterator[Connection]:
    """A kombu connection on the test database through our Redis transport (the consumer's)."""
    connection = Connection(redis_url, transport=transport_for(redis_url))
    yield connection
    connection.release()


@pytest.fixture
def stack(tmp_path: Path, redis_url: str, redis_client: redis.Redis) -> Iterator[Stack]:
    """The default stack: shipped rules, no sources."""
    with running_stack(tmp_path, redis_url, redis_client) as s:
        yield s
