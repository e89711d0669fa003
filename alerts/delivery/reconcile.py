"""Reading the ledger, replaying dead letters, and finding deliveries that need a new task."""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.delivery.deps import DeliveryDeps
from alerts.delivery.ledger import DeliveryRow, Ledger
from alerts.delivery.store import DeliveryStore
from alerts.models import Alert

REQUEUE = ("pending", "retrying", "sending")


def list_deliveries(
    store: DeliveryStore | Ledger,
    *,
    watch: str | None = None,
    status: str | None = None,
    limit: int = 100,
) -> list[DeliveryRow]:
    """Ledger rows, newest first (``GET /v1/deliveries``); ``row.model_dump(mode="json")``."""
    ledger = store.ledger if isinstance(store, DeliveryStore) else store
    return ledger.query(watch=watch, status=status, limit=limit)


def record_pending(alert: Alert, channel: str, *, deps: DeliveryDeps) -> DeliveryRow:
    """Write a ``pending`` row before enqueueing, so a lost task is found by the reconciler."""
    row = pending_row(alert, channel, deps.clock(), deps)
    return deps.store.ledger.insert(row) or row  # one step: an existing row is kept as it is


def pending_row(alert: Alert, channel: str, now: datetime, deps: DeliveryDeps) -> DeliveryRow:
    """The ``pending`` row ``record_pending`` writes: the reconciler looks again a lease on."""
    return DeliveryRow.new(alert, channel, now, now + timedelta(seconds=deps.conf.lease_seconds))


def stale_deliveries(
    deps: DeliveryDeps, now: datetime, limit: int = 500
) -> list[tuple[Alert, str]]:
    """(alert, channel) of rows stuck in pending/retrying/sending past their wake time.

    Each returned row's wake time moves one lease ahead, so the next beat does not re-queue it
    while its new task is on the way.
    """
    later = now + timedelta(seconds=deps.conf.lease_seconds)
    out = []
    for row in deps.store.ledger.waking(now, limit):
        if row.status not in REQUEUE:
            deps.store.ledger.save(row.model_copy(update={"wake_at": None}))
            continue
        deps.store.ledger.save(row.model_copy(update={"wake_at": later}))
        out.append((row.alert, row.channel))
    return out


def dead_letters(store: DeliveryStore, *, limit: int = 100) -> list[DeliveryRow]:
    """The dead-letter list: rows in ``dead``, newest first."""
    return store.ledger.query(status="dead", limit=limit)


def replay(store: DeliveryStore, rid: str, now: datetime) -> DeliveryRow | None:
    """Put a dead row back to ``pending`` with fresh attempts; the reconciler re-queues it."""
    row = store.ledger.get(rid)
    if row is None or row.status != "dead":
        return None
    again = row.moved(
        "pending", now, attempts=0, next_attempt_at=None, wake_at=now, detail="replayed"
    )
    store.ledger.save(again, force=True)  # the operator's explicit decision
    return again
