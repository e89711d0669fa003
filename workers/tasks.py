"""Thin tasks: decode JSON, call one function of ``alerts``, enqueue the next step or retry."""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import redis
from celery.exceptions import Reject
from celery.signals import worker_ready
from kombu.exceptions import OperationalError

from alerts import handoff, item_steps, source_health
from alerts.delivery import stale_deliveries
from alerts.delivery.digests import flush_due_digests
from alerts.ingest import IngestError, ParseError, sources
from alerts.matching import RuleSetError
from alerts.matching.shards import QUEUE, shard_of, shard_queue
from alerts.models import Alert, Item
from alerts.observe import metrics
from workers.app import app
from workers.broker import delivery_queue
from workers.runtime import freeze_heap, runtime

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
OUTAGES = (redis.ConnectionError, redis.TimeoutError, OperationalError)


def requeue_on_outage(func: F) -> F:
    """A Redis outage mid-task puts the message back (never acked as failed, so never lost)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OUTAGES as exc:
            log.warning("%s: Redis unavailable (%s); message requeued", func.__name__, exc)
            raise Reject(str(exc), requeue=True) from None

    return wrapper  # type: ignore[return-value]


@worker_ready.connect
def _freeze_consumer_heap(**_: Any) -> None:
    """The consumer process keeps its start-up heap for life: keep the GC off it too."""
    freeze_heap()


@worker_ready.connect
def _load_rules_at_start(**_: Any) -> None:
    """Have a pool process load the rules now, so /healthz reports them before any bulletin."""
    load_rules.delay()


@app.task(name="alerts.load_rules")
@requeue_on_outage
def load_rules() -> str | None:
    """Load (or reload) the rule set and publish its status; its version, or None if invalid."""
    try:
        ruleset, _ = runtime().current_rules()
    except RuleSetError:
        return None  # the status, errors included, is published all the same
    return ruleset.version


RULES_RETRY_SECONDS = 15.0
POLL_LOCK_SECONDS = 300


@app.task(name="alerts.ingest_bulletin", bind=True, max_retries=None)
@requeue_on_outage
def ingest_bulletin(
    self: Any,
    source: str,
    content_b64: str,
    content_type: str | None = None,
    bulletin_id: str | None = None,
) -> list[str]:
    """Parse a bulletin, hand on up to ``worker.ingest_chunk`` new items, queue a follow-up for
    the rest (each task stays well inside the visibility timeout); then drop it from the intake.
    """
    rt = runtime()
    chunk = rt.settings.worker.ingest_chunk
    try:
        configured = rt.settings.source(source)
        items = item_steps.new_items(
            base64.b64decode(content_b64),
            source=source,
            content_type=content_type,
            seen=rt.seen,
            received=rt.clock(),
            language=configured.language if configured else None,
        )
        handed = queue_for_matching(items[:chunk])  # seen from now: the follow-up skips them
    except ParseError as exc:
        log.warning("bulletin from %s refused: %s", source, exc, extra=_ids(source, bulletin_id))
        items, handed = [], []
    except RuleSetError as exc:  # nothing remembered, the intake entry stays: try again later
        log.error("no valid rule set, bulletin %s waits: %s", bulletin_id, exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None
    if len(items) > chunk:  # the intake keeps it, its wake time pushed past the follow-up
        if bulletin_id and rt.intake is not None:
            later = rt.clock() + timedelta(seconds=rt.settings.worker.visibility_timeout)
            rt.intake.extend(bulletin_id, later)
        ingest_bulletin.delay(source, content_b64, content_type, bulletin_id=bulletin_id)
    elif bulletin_id and rt.intake is not None:
        rt.intake.done(bulletin_id)
    extra = {**_ids(source, bulletin_id), "item_ids": handed}
    log.info("bulletin from %s: %d new items", source, len(handed), extra=extra)
    return handed


def _ids(source: str, bulletin_id: str | None) -> dict[str, str]:
    return {"source": source, "bulletin_id": bulletin_id or ""}


def enqueue_delivery(alert: Alert, channel: str, countdown: float | None) -> None:
    """Queue a ``deliver_alert`` task, now or after ``countdown`` seconds."""
    payload = alert.model_dump(mode="json")
    queue = delivery_queue(runtime().settings, alert.watch)  # its shard's, when sharded
    if countdown is None and queue == QUEUE:
        deliver_alert.delay(payload, channel)
    else:
        deliver_alert.apply_async((payload, channel), countdown=countdown, queue=queue)


def handoff_deps() -> handoff.Handoff:
    """The core's hand-on dependencies, over this process's runtime."""
    rt = runtime()
    conf = rt.settings.worker
    return handoff.Handoff(
        seen=rt.seen,
        archive=rt.archive,
        delivery=rt.delivery,
        clock=rt.clock,
        enqueue=enqueue_delivery,
        match_batch=conf.match_batch,
        inline=conf.inline_deliveries,
    )


def queue_for_matching(items: list[Item]) -> list[str]:
    """Match, record pending, remember, send (``handoff.hand_on``); RuleSetError passes up.

    With watch shards, the items go to every shard's queue instead, then are remembered.
    """
    if runtime().settings.worker.shards > 1:
        handed = handoff.park(items, handoff_deps(), queue_match)
    else:
        handed = handoff.hand_on(items, runtime().current_rules, handoff_deps())
    _saw_new(items)
    return handed


def _saw_new(items: list[Item]) -> None:
    rt = runtime()
    source_health.saw_new(items, rt.health, rt.clock(), (s.id for s in rt.settings.sources))


def poll_hand_on(items: list[Item]) -> list[str]:
    """A polled source's new items: matched here, or parked in match tasks without rules."""
    fresh = item_steps.fresh(items, runtime().seen, received=runtime().clock())
    try:
        return queue_for_matching(fresh)
    except RuleSetError as exc:
        log.error("no valid rule set, polled items wait in match tasks: %s", exc)
        parked = handoff.park(fresh, handoff_deps(), queue_match)
        _saw_new(fresh)
        return parked


def queue_match(batch: list[Item]) -> None:
    """Queue a ``match_items`` task for a batch of items (one per shard when sharded)."""
    payload = [item.model_dump(mode="json") for item in batch]
    shards = runtime().settings.worker.shards
    for shard in range(shards) if shards > 1 else ():
        match_items.apply_async((payload,), queue=shard_queue(shard))
    if shards == 1:
        match_items.delay(payload)


@app.task(name="alerts.poll_sources")
@requeue_on_outage
def poll_sources() -> int:
    """Queue a poll of every configured source that is due (one poll at a time per source)."""
    rt = runtime()
    queued = 0
    for src in rt.settings.sources:
        due = src.kind != "webhook" and rt.source_state.get(src.id).is_due(rt.clock())
        if due and rt.redis.set(f"alerts:poll-lock:{src.id}", "1", nx=True, ex=POLL_LOCK_SECONDS):
            poll_source.delay(src.id)
            queued += 1
    if rt.health is not None:
        source_health.check(
            rt.settings.sources, rt.settings.source_health,
            states=rt.source_state, health=rt.health, h=handoff_deps(),
        )  # fmt: skip
    return queued


@app.task(name="alerts.poll_source")
@requeue_on_outage
def poll_source(source_id: str) -> list[str]:
    """Fetch one source; its new items go to matching. Failures back off in the source state."""
    rt = runtime()
    src = rt.settings.source(source_id)
    try:
        if src is None:
            return []
        queued: list[str] = []
        sources.poll_source(
            src,
            fetcher=rt.fetcher,
            state=rt.source_state,
            clock=rt.clock,
            on_items=lambda items: queued.extend(poll_hand_on(items)),
        )
        metrics.polled(source_id, "ok")
        return queued
    except IngestError as exc:
        metrics.polled(source_id, "parse_error" if isinstance(exc, ParseError) else "fetch_error")
        log.warning("source %s failed: %s", source_id, exc, extra={"source": source_id})
        return []
    finally:
        rt.redis.delete(f"alerts:poll-lock:{source_id}")


@app.task(name="alerts.match_items", bind=True, max_retries=None)
@requeue_on_outage
def match_items(self: Any, items: list[dict[str, Any]]) -> int:
    """Match items against the current rule set; queue one delivery per (alert, channel)."""
    rt = runtime()
    try:
        ruleset, matcher = rt.current_rules()
    except RuleSetError as exc:  # no good rule set yet: keep the items until one loads
        log.error("no valid rule set, items wait: %s", exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None
    found = item_steps.alerts_for([Item.model_validate(i) for i in items], ruleset, matcher)
    deps = handoff_deps()
    handoff.send_or_queue(handoff.record_all(found, deps.delivery), deps)
    return len(found)


@app.task(name="alerts.deliver_alert", bind=True, max_retries=None)
@requeue_on_outage
def deliver_alert(self: Any, alert: dict[str, Any], channel: str) -> str:
    """Run the delivery stages for one (alert, channel); retry when they say so."""
    outcome = handoff.deliver_one(Alert.model_validate(alert), channel, runtime().delivery)
    if outcome.status == "retry":
        raise self.retry(countdown=outcome.retry_after or 1.0)
    return str(outcome.status)


@app.task(name="alerts.ping")
def ping(key: str) -> None:
    """Set ``key`` for a minute: a no-op round trip (the bench's baseline, a liveness probe)."""
    runtime().redis.set(f"alerts:ping:{key}", "1", ex=60)


@app.task(name="alerts.flush_digests")
@requeue_on_outage
def flush_digests() -> int:
    """Send the digests that are due."""
    rt = runtime()
    if rt.shard is None:
        return len(flush_due_digests(rt.delivery))
    mine = functools.partial(is_mine, shard=rt.shard, shards=rt.settings.worker.shards)
    return len(flush_due_digests(rt.delivery, keep=mine))


def is_mine(watch: str, *, shard: int, shards: int) -> bool:
    """Whether a watch belongs to this shard."""
    return shard_of(watch, shards) == shard


@app.task(name="alerts.reconcile")
@requeue_on_outage
def reconcile() -> int:
    """Re-queue deliveries stuck past their lease, and bulletins never ingested (see intake)."""
    rt = runtime()
    now = rt.clock()
    stale = stale_deliveries(rt.delivery, now)
    for alert, channel in stale:
        enqueue_delivery(alert, channel, None)
    later = now + timedelta(seconds=rt.settings.worker.visibility_timeout)
    lost = rt.intake.due(now, later) if rt.intake is not None else []
    for b in lost:
        log.warning("bulletin %s from %s not ingested in time; queued again", b.id, b.source)
        ingest_bulletin.delay(b.source, b.content_b64, b.content_type, bulletin_id=b.id)
    return len(stale) + len(lost)
