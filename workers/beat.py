"""The periodic schedule: source polls, digest flushes and the delivery reconciler."""

from __future__ import annotations

from typing import Any

from alerts.settings import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery beat entries; each task decides itself what is due."""
    w = settings.worker
    return {
        "poll-sources": {"task": "alerts.poll_sources", "schedule": w.poll_tick},
        "flush-digests": {"task": "alerts.flush_digests", "schedule": w.digest_tick},
        "reconcile": {"task": "alerts.reconcile", "schedule": w.reconcile_tick},
    }
