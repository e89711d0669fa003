"""The API process: the core's FastAPI app wired to Celery (``uvicorn workers.api:create_api``)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import timedelta
from typing import Any

import redis
from fastapi import FastAPI

from alerts.api.app import create_app
from alerts.api.console.deps import redis_console
from alerts.clock import system_clock
from alerts.delivery import list_deliveries, redis_store
from alerts.ingest.dedup import RedisSeenStore
from alerts.ingest.intake import INTAKE_KEY, Accepted, RedisIntake
from alerts.matching.published import WORKER_REPORT_AGE, published, worker_versions
from alerts.observe import metrics
from alerts.observe.logs import configure_logging
from alerts.observe.scrape import RedisGauges
from alerts.settings import load_settings
from workers.app import QUEUE
from workers.app import app as celery_app
from workers.runtime import RULES_STATUS_KEY, freeze_heap

# Signed requests older than 5 minutes are refused, so remembering ids for 10 is enough.
REPLAY_WINDOW_SECONDS = 600


def create_api() -> FastAPI:
    """Factory for uvicorn: settings validated once, one Redis client for the process."""
    settings = load_settings()
    configure_logging(settings)  # again in each worker process uvicorn spawns
    client = settings.redis_client(socket_timeout=2)
    store = redis_store(client, settings.delivery)
    intake = RedisIntake(client)
    seen = RedisSeenStore(client, timedelta(days=settings.item_retention_days))
    grace = timedelta(seconds=settings.worker.visibility_timeout)

    def submit(*, source: str, data: bytes, content_type: str | None) -> None:
        # Kept in the intake first: the reconciler re-queues it if its task message is lost.
        bulletin = Accepted(uuid.uuid4().hex, source, base64.b64encode(data).decode(), content_type)
        intake.add(bulletin, system_clock() + grace)
        celery_app.send_task(
            "alerts.ingest_bulletin",
            args=[source, bulletin.content_b64, content_type],
            kwargs={"bulletin_id": bulletin.id},
        )

    def health() -> dict[str, Any]:
        return {
            "redis": _redis_ok(client),
            "workers": _workers(),
            "rules": _rules(client),
            "rules_by_worker": _rules_by_worker(client),
        }

    def deliveries(watch: str | None, status: str | None, limit: int) -> list[dict[str, Any]]:
        rows = list_deliveries(store, watch=watch, status=status, limit=limit)
        return [row.model_dump(mode="json") for row in rows]

    def replay_guard(request_id: str) -> bool:
        digest = hashlib.sha256(request_id.encode()).hexdigest()
        key = f"alerts:webhook:seen:{digest}"
        return bool(client.set(key, "1", nx=True, ex=REPLAY_WINDOW_SECONDS))

    metrics.configure([src.id for src in settings.sources])
    gauges = RedisGauges(
        client,
        queue=QUEUE,
        ledger_prefix=settings.delivery.key_prefix,
        rules_status_key=RULES_STATUS_KEY,
        intake_key=INTAKE_KEY,
        sources=[src.id for src in settings.sources],
        clock=system_clock,
    )
    api = create_app(
        settings,
        submit=submit,
        health=health,
        deliveries=deliveries,
        replay_guard=replay_guard,
        count_new=lambda ids: len(seen.unseen(ids)),
        console=redis_console(settings, client),
        metrics=lambda: metrics.render(gauges),
    )
    freeze_heap()  # the start-up heap lives as long as the process: no GC pauses over it
    return api


def _redis_ok(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


def _workers() -> int:
    try:
        return len(celery_app.control.ping(timeout=1.0) or [])
    except Exception:
        return 0


def _rules_by_worker(client: redis.Redis) -> dict[str, Any] | None:
    """The published rule set (if any) and each worker's version, heard within 3 minutes."""
    try:
        workers = worker_versions(client, system_clock(), max_age=WORKER_REPORT_AGE)
        meta = published(client)
    except redis.RedisError:
        return None
    return {"published": meta["version"] if meta else None, "workers": workers}


def _rules(client: redis.Redis) -> dict[str, Any] | None:
    try:
        raw = client.get(RULES_STATUS_KEY)
    except redis.RedisError:
        return None
    return json.loads(raw) if raw else None
