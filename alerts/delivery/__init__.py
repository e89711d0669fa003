"""Delivery: dedup -> route -> silence -> story -> throttle/digest -> pace -> send -> record."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.lazy import lazy_exports

if TYPE_CHECKING:
    from alerts.delivery.deps import DeliveryDeps, Outcome, build_deps
    from alerts.delivery.digests import due_digests, flush_digest, flush_due_digests
    from alerts.delivery.ledger import DeliveryRow
    from alerts.delivery.pipeline import deliver
    from alerts.delivery.reconcile import (
        dead_letters,
        list_deliveries,
        record_pending,
        replay,
        stale_deliveries,
    )
    from alerts.delivery.silences import Silence, add_silence, expire_silence, list_silences
    from alerts.delivery.store import DeliveryStore, memory_store, redis_store
    from alerts.rules.notify import NotifySpec

__getattr__, __dir__ = lazy_exports(__name__)
__all__ = [
    "DeliveryDeps",
    "DeliveryRow",
    "DeliveryStore",
    "NotifySpec",
    "Outcome",
    "Silence",
    "add_silence",
    "build_deps",
    "dead_letters",
    "deliver",
    "due_digests",
    "expire_silence",
    "flush_digest",
    "flush_due_digests",
    "list_deliveries",
    "list_silences",
    "memory_store",
    "record_pending",
    "redis_store",
    "replay",
    "stale_deliveries",
]
