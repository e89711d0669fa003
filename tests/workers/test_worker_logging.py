"""The worker's log set-up: the HTTP client's per-request lines only when debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from alerts.settings import Settings
from workers import observe


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name in observe.CHATTY:
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(("level", "httpx_level"), [("INFO", "WARNING"), ("DEBUG", "DEBUG")])
def test_httpx_request_lines_only_at_debug(
    monkeypatch: pytest.MonkeyPatch, level: str, httpx_level: str
) -> None:
    monkeypatch.setattr(observe, "load_settings", lambda: Settings(log_level=level))
    observe.configure_worker_logging()
    for name in observe.CHATTY:
        assert logging.getLevelName(logging.getLogger(name).getEffectiveLevel()) == httpx_level
