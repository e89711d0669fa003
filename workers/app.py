"""The Celery application: JSON only, acks late, tasks rejected (redelivered) when a worker dies."""

from __future__ import annotations

from celery import Celery

from alerts.matching.shards import QUEUE
from alerts.settings import Settings, load_settings
from workers import observe  # noqa: F401  (connects the logging and metrics signals)
from workers.beat import beat_schedule
from workers.broker import beat_conf, broker_conf
from workers.hub import LeanHub, RecordFirst
from workers.lean_trace import install as lean_trace


def create_app(settings: Settings | None = None) -> Celery:
    """Build the Celery app for these settings (a Redis URL is required)."""
    settings = settings or load_settings()
    if not settings.redis_url:
        raise SystemExit("ALERTS_REDIS_URL is not set: workers need a Redis (see README)")
    app = Celery("bulletin_alerts", include=["workers.tasks", "workers.rules_refresh"])
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=QUEUE,
        worker_prefetch_multiplier=1,
        worker_disable_rate_limits=True,  # no task has a rate limit: skip the per-task bucket
        worker_concurrency=settings.worker.concurrency,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(settings),
        timezone="UTC",
    )
    app.conf.update(broker_conf(settings) | beat_conf(settings))
    app.steps["worker"].add(LeanHub)  # no epoll calls that change nothing (workers/hub.py)
    app.steps["worker"].add(RecordFirst)  # a solo worker's message recorded before its task
    lean_trace()  # each task's request made with less work (workers/lean_trace.py)
    return app


app = create_app()
