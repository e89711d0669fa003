"""Thin tasks: decode JSON, call one function of ``alerts``, enqueue the next step or retry."""

from __future__ import annotations

import base64
import logging
from typing import Any

from alerts import pipeline
from alerts.delivery import deliver, record_pending, stale_deliveries
from alerts.delivery.digests import flush_due_digests
from alerts.ingest import ParseError
from alerts.matching import RuleSetError
from alerts.models import Alert, Item
from workers.app import app
from workers.runtime import runtime

log = logging.getLogger(__name__)
RULES_RETRY_SECONDS = 15.0


@app.task(name="alerts.ingest_bulletin")
def ingest_bulletin(source: str, content_b64: str, content_type: str | None = None) -> list[str]:
    """Parse a bulletin, keep the new items, queue them for matching; returns their ids."""
    rt = runtime()
    try:
        items, _ = pipeline.new_items(
            base64.b64decode(content_b64), source=source, content_type=content_type, seen=rt.seen
        )
    except ParseError as exc:
        log.warning("bulletin from %s refused: %s", source, exc)
        return []
    for batch in pipeline.batches(items, rt.settings.worker.match_batch):
        match_items.delay([item.model_dump(mode="json") for item in batch])
    pipeline.remember(items, seen=rt.seen, archive=rt.archive, now=rt.clock())
    return [item.id for item in items]


@app.task(name="alerts.match_items", bind=True, max_retries=None)
def match_items(self: Any, items: list[dict[str, Any]]) -> int:
    """Match items against the current rule set; queue one delivery per (alert, channel)."""
    rt = runtime()
    try:
        ruleset, matcher = rt.rules.current()
    except RuleSetError as exc:  # no good rule set yet: keep the items until one loads
        log.error("no valid rule set, items wait: %s", exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None
    finally:
        rt.publish_rules_status()
    found = pipeline.alerts_for([Item.model_validate(i) for i in items], ruleset, matcher)
    for alert in found:
        for channel in alert.channels:
            record_pending(alert, channel, deps=rt.delivery)  # the reconciler's safety net
            deliver_alert.delay(alert.model_dump(mode="json"), channel)
    return len(found)


@app.task(name="alerts.deliver_alert", bind=True, max_retries=None)
def deliver_alert(self: Any, alert: dict[str, Any], channel: str) -> str:
    """Run the delivery stages for one (alert, channel); retry when they say so."""
    outcome = deliver(Alert.model_validate(alert), channel, deps=runtime().delivery)
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.retry_after or 1.0)
    return str(outcome.status)


@app.task(name="alerts.flush_digests")
def flush_digests() -> int:
    """Send the digests that are due."""
    return len(flush_due_digests(runtime().delivery))


@app.task(name="alerts.reconcile")
def reconcile() -> int:
    """Re-queue deliveries stuck past their lease, so nothing waits on Redis' sweep alone."""
    stale = stale_deliveries(runtime().delivery, runtime().clock())
    for alert, channel in stale:
        deliver_alert.delay(alert.model_dump(mode="json"), channel)
    return len(stale)
