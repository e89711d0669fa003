"""The worker's log set-up: the HTTP client's per-request lines only when debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from celery.app import trace as celery_trace

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
    celery_trace.info = observe.CELERY_INFO  # type: ignore[assignment]


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(("level", "httpx_level"), [("INFO", "WARNING"), ("DEBUG", "DEBUG")])
def test_httpx_request_lines_only_at_debug(
    monkeypatch: pytest.MonkeyPatch, level: str, httpx_level: str
) -> None:
    monkeypatch.setattr(observe, "load_settings", lambda: Settings(log_level=level))
    observe.configure_worker_logging()
    for name in observe.CHATTY:
        assert logging.getLevelName(logging.getLogger(name).getEffectiveLevel()) == httpx_level


@pytest.mark.usefixtures("restored_logging")
@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_celery_task_success_line_only_at_debug_and_retries_kept(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, level: str, shown: bool
) -> None:
    from celery.app import trace

    monkeypatch.setattr(observe, "load_settings", lambda: Settings(log_level=level))
    observe.configure_worker_logging()
    logging.getLogger().addHandler(caplog.handler)  # the set-up replaced the root's handlers
    caplog.set_level(logging.DEBUG, logger=observe.TRACE)
    context = {"id": "t1", "name": "alerts.ingest_bulletin", "runtime": 0.01, "return_value": 1}
    made: list[str] = []
    trace_logger = logging.getLogger(observe.TRACE)
    real = trace_logger.makeRecord
    monkeypatch.setattr(
        trace_logger, "makeRecord", lambda *a, **k: made.append(a[4]) or real(*a, **k)
    )
    trace.info(trace.LOG_SUCCESS, context)
    trace.info(trace.LOG_RETRY, {**context, "exc": "Retry in 5s"})
    logged = [r.getMessage() for r in caplog.records if r.name == observe.TRACE]
    assert any("succeeded" in line for line in logged) is shown
    assert any("retry: Retry in 5s" in line for line in logged)
    assert (trace.LOG_SUCCESS in made) is shown  # not even a record made when dropped
