"""Celery signal wiring for logs and metrics; the work itself is in ``alerts.observe``."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery.app import trace as celery_trace
from celery.app.trace import LOG_SUCCESS
from celery.signals import setup_logging, worker_init, worker_shutting_down

from alerts.observe import metrics
from alerts.observe.logs import configure_logging
from alerts.settings import load_settings
from workers import inflight

log = logging.getLogger(__name__)
# httpx logs each request at INFO: one more line per send, beside the delivery's own (which
# carries its ids), and a tenth of a millisecond of CPU each. Kept at DEBUG.
# Celery's "Task ... received" (the pool's parent: its only INFO line) is the same kind of line.
CHATTY = ("httpx", "httpcore", "celery.worker.strategy")
TRACE = "celery.app.trace"


CELERY_INFO = celery_trace.info  # Celery's trace logs its INFO lines through this function


def info_but_success(fmt: str, context: dict[str, Any]) -> None:
    """Celery's trace ``info`` without its "Task ... succeeded in ..." (one per task, beside our
    lines with the ids), dropped before a log record is made (a filter on the logger cost 4.6 µs
    per task in the pool child); its retry line (INFO) stays, failures are logged elsewhere."""
    if fmt is not LOG_SUCCESS:
        CELERY_INFO(fmt, context)


def configure_worker_logging() -> None:
    """Our handler and format; per-request and per-task chatter only at DEBUG."""
    setup = load_settings().log_setup()
    configure_logging(setup)
    quiet = logging.getLevelName(setup.level) != logging.DEBUG
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    celery_trace.info = info_but_success if quiet else CELERY_INFO  # type: ignore[assignment]


# Now, not only on Celery's signal: its start-up (a warning when run as root) comes first.
configure_worker_logging()


@setup_logging.connect
def _logging(**_: Any) -> None:
    """Our handler and format instead of Celery's (a receiver here stops Celery's own set-up)."""
    configure_worker_logging()


@worker_init.connect
def _serve_metrics(**_: Any) -> None:
    """The worker's /metrics, from its main process: the sum over its pool children's files
    (a supervised solo worker leaves it to its supervisor, ``workers/supervisor.py``)."""
    if inflight.ENV not in os.environ:
        metrics.serve_worker(load_settings().metrics)


@worker_shutting_down.connect
def _shutting_down(how: str = "", **_: Any) -> None:
    """A log line for the shutdown (Celery prints its own notice straight to the descriptor)."""
    log.info("worker: %s shutdown", how or "warm")
