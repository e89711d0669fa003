"""Use cases of the schedule and of delivery: poll sources, deliver, flush digests, reconcile."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

from alerts import handoff, source_health
from alerts.delivery import Outcome, stale_deliveries
from alerts.delivery.digests import flush_due_digests
from alerts.ingest import IngestError, ParseError, sources
from alerts.matching.shards import shard_of
from alerts.models import Alert
from alerts.observe import metrics
from alerts.usecases.bulletins import poll_hand_on
from alerts.usecases.context import Services

log = logging.getLogger(__name__)
POLL_LOCK_SECONDS = 300


def poll_due_sources(s: Services) -> int:
    """Queue a poll of every configured source that is due (one poll at a time per source);
    then check the sources' health."""
    queued = 0
    for src in s.settings.sources:
        due = src.kind != "webhook" and s.source_state.get(src.id).is_due(s.clock())
        if due and s.locks.take(src.id, POLL_LOCK_SECONDS):
            s.queues.poll(src.id)
            queued += 1
    if s.health is not None:
        source_health.check(
            s.settings.sources, s.settings.source_health,
            states=s.source_state, health=s.health, h=s.handoff(),
        )  # fmt: skip
    return queued


def poll_source(s: Services, source_id: str) -> list[str]:
    """Fetch one source; its new items go to matching. Failures back off in the source state."""
    src = s.settings.source(source_id)
    try:
        if src is None:
            return []
        queued: list[str] = []
        sources.poll_source(
            src,
            fetcher=s.fetcher,
            state=s.source_state,
            clock=s.clock,
            on_items=lambda items: queued.extend(poll_hand_on(s, items)),
        )
        metrics.polled(source_id, "ok")
        return queued
    except IngestError as exc:
        metrics.polled(source_id, "parse_error" if isinstance(exc, ParseError) else "fetch_error")
        log.warning("source %s failed: %s", source_id, exc, extra={"source": source_id})
        return []
    finally:
        s.locks.drop(source_id)


def deliver(s: Services, alert: Alert, channel: str) -> Outcome:
    """Run the delivery stages for one (alert, channel), counted and logged."""
    return handoff.deliver_one(alert, channel, s.delivery)


def flush_digests(s: Services) -> int:
    """Send the digests that are due (this shard's watches only, when sharded); counted."""
    counted = metrics.digest_flushed
    if s.shard is None:
        return len(flush_due_digests(s.delivery, settled=counted))
    mine = functools.partial(is_mine, shard=s.shard, shards=s.settings.worker.shards)
    return len(flush_due_digests(s.delivery, keep=mine, settled=counted))


def is_mine(watch: str, *, shard: int, shards: int) -> bool:
    """Whether a watch belongs to this shard."""
    return shard_of(watch, shards) == shard


def reconcile(s: Services) -> int:
    """Re-queue deliveries stuck past their lease, and bulletins never ingested (see intake)."""
    now = s.clock()
    stale = stale_deliveries(s.delivery, now)
    for alert, channel in stale:
        s.queues.delivery(alert, channel, None)
    later = now + timedelta(seconds=s.settings.worker.visibility_timeout)
    lost = s.intake.due(now, later) if s.intake is not None else []
    for b in lost:
        log.warning("bulletin %s from %s not ingested in time; queued again", b.id, b.source)
        s.queues.bulletin(b.source, b.content_b64, b.content_type, b.id)
    return len(stale) + len(lost)
