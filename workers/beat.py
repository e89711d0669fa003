"""The periodic schedule: source polls, digest flushes and the delivery reconciler."""

from __future__ import annotations

from typing import Any

from alerts.matching.shards import shard_queue
from alerts.settings import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery beat entries; each task decides itself what is due."""
    w = settings.worker
    entries: dict[str, dict[str, Any]] = {
        "poll-sources": {"task": "alerts.poll_sources", "schedule": w.poll_tick},
        "flush-digests": {"task": "alerts.flush_digests", "schedule": w.digest_tick},
        "reconcile": {"task": "alerts.reconcile", "schedule": w.reconcile_tick},
    }
    if w.shards > 1:  # each shard flushes its own watches' digests (it knows their options)
        del entries["flush-digests"]
        for k in range(w.shards):
            entries[f"flush-digests-{k}"] = {
                "task": "alerts.flush_digests",
                "schedule": w.digest_tick,
                "options": {"queue": shard_queue(k)},
            }
    return entries
