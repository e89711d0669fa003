"""A console over memory stores and the shipped rules, behind FastAPI's test client."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from fastapi.testclient import TestClient

from alerts.api.app import create_app
from alerts.api.console.deps import ConsoleDeps, memory_console
from alerts.clock import FrozenClock
from alerts.settings import Settings, load_settings
from tests.api.console.browser import chrome, require_chromium
from tests.workers.conftest import Stack, running_stack

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
ADMIN, READER, FEED = "admin-token-not-a-secret", "read-token-not-a-secret", "feed-token-x"
CHANNELS = {
    "email": "json://127.0.0.1:9/",
    "slack": "json://127.0.0.1:9/",
    "digest": "json://127.0.0.1:9/",
}


@dataclass
class Console:
    """The app, its ports and a client."""

    client: TestClient
    deps: ConsoleDeps
    clock: FrozenClock

    def sign_in(self, token: str = ADMIN) -> None:
        """Sign in through the form, as a browser does."""
        page = self.client.get("/console/login")
        resp = self.client.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "token": token, "next": "/console/"},
            follow_redirects=False,
        )
        assert resp.status_code == 303, resp.text

    def csrf(self, path: str = "/console/silences") -> str:
        """The CSRF token the session's forms carry."""
        return csrf_of(self.client.get(path).text)


def csrf_of(html: str) -> str:
    """The first form's CSRF token in a page."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def make_console(
    rules_dir: Path = ROOT / "rules", base_url: str = "http://testserver", **console: Any
) -> Console:
    """A console with an admin (the API token), a read-only and a feed token."""
    console.setdefault("read_tokens", [READER])
    console.setdefault("feed_token", FEED)
    settings: Settings = load_settings(
        api_token=ADMIN, rules_dir=rules_dir, channels=CHANNELS, console=console
    )
    clock = FrozenClock(NOW)
    deps = memory_console(settings, clock)
    app = create_app(settings, submit=lambda **_: None, health=lambda: {}, console=deps)
    return Console(TestClient(app, base_url=base_url), deps, clock)


@pytest.fixture
def console() -> Console:
    """A console, not signed in."""
    return make_console()


# The browser tests' service: one stack (worker, beat, API) and one browser for the package.
FEED_TOKEN = "feed-token-not-a-secret"
RULES = {
    "kaluga.yaml": {"id": "kaluga", "name": "Kaluga region", "any": ["Kaluga"],
                    "notify": {"channels": ["slack"]}},
    "oryol.yaml": {"id": "oryol", "name": "Oryol", "any": ["Oryol"],
                   "notify": {"channels": ["slack"]}},
    # Muted for good by its rule: the naughty items are recorded, never sent.
    "naughty.yaml": {"id": "naughty", "name": "Naughty", "any": ["zzqnaughty"],
                     "notify": {"channels": ["slack"], "mute_until": "2999-01-01T00:00:00Z"}},
}  # fmt: skip


@pytest.fixture(scope="package")
def service(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    """Worker, beat and API on the test Redis, with two Slack watches and a feed token."""
    require_chromium()
    tmp = tmp_path_factory.mktemp("console")
    rules = tmp / "rules"
    rules.mkdir()
    for name, rule in RULES.items():
        (rules / name).write_text(yaml.safe_dump(rule), encoding="utf-8")
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    settings: dict[str, Any] = {
        "rules_dir": str(rules),
        "channels": lambda smtp, slack: {
            "slack": "slack://T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX"
        },
        "delivery": {"lease_seconds": 5, "backoff_base": 0.2, "backoff_cap": 1.0},
        "worker": {"reconcile_tick": 1},
        "console": {"url": "http://127.0.0.1:9", "feed_token": FEED_TOKEN},
    }
    with running_stack(tmp, redis_url, client, beat=True, **settings) as stack:
        yield stack
    client.flushdb()


@pytest.fixture(scope="package")
def driver() -> Iterator[Any]:
    """One headless Chromium for the browser tests."""
    with chrome() as d:
        yield d
