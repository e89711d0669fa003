"""A console over memory stores and the shipped rules, behind FastAPI's test client."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts.api.app import create_app
from alerts.api.console.deps import ConsoleDeps, memory_console
from alerts.clock import FrozenClock
from alerts.settings import Settings, load_settings

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
