"""Thin tasks: decode JSON, call one function of ``alerts``, enqueue the next step or retry."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from celery.exceptions import Reject
from celery.signals import worker_ready
from kombu.exceptions import OperationalError

from alerts.matching.shards import QUEUE, shard_queue
from alerts.models import Alert, Item
from alerts.rules import RuleSetError
from alerts.usecases import bulletins, upkeep
from alerts.usecases.bulletins import Posted, ingest_group
from alerts.usecases.context import Parsed, RedisLocks, Services
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


def services() -> Services:
    """The use cases' dependencies over this process's runtime, queueing through Celery."""
    rt = runtime()
    return Services(
        settings=rt.settings,
        seen=rt.seen,
        archive=rt.archive,
        delivery=rt.delivery,
        clock=rt.clock,
        rules=rt.current_rules,
        fetcher=rt.fetcher,
        source_state=rt.source_state,
        queues=CeleryQueues(),
        locks=RedisLocks(rt.redis),
        intake=rt.intake,
        health=rt.health,
        shard=rt.shard,
        outages=OUTAGES,
    )


@app.task(name="alerts.ingest_bulletin", bind=True, max_retries=None)
@requeue_on_outage
def ingest_bulletin(
    self: Any,
    source: str,
    content_b64: str,
    content_type: str | None = None,
    bulletin_id: str | None = None,
    items: list[dict[str, Any]] | None = None,
    fmt: str | None = None,
) -> int:
    """Ingest a bulletin (``usecases.bulletins``); without a valid rule set, retry later.

    ``items`` and ``fmt``: what the API parsed (then ``content_b64`` may be empty). Returns how
    many items were new: results are ignored, but Celery's trace still reprs the return value
    on every task and the pool sends it back to its parent (a count costs less than the ids).
    """
    try:
        parsed = None if items is None else _parsed(items, fmt)
        return _ingest(source, content_b64, content_type, bulletin_id, parsed)
    except RuleSetError as exc:  # nothing remembered, the intake entry stays: try again later
        log.error("no valid rule set, bulletin %s waits: %s", bulletin_id, exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None


@app.task(name="alerts.ingest_bulletins", bind=True, max_retries=None)
@requeue_on_outage
def ingest_bulletins(self: Any, bulletins: list[dict[str, Any]]) -> int:
    """Several small bulletins the API wrote together (``alerts.api.batcher``), ingested in one
    hand-on (``bulletins.ingest_group``); how many items were new. A bulletin that does not
    decode, or fails in ``ingest_group``, stays in the intake (the reconciler queues it again)
    while the others are done, then the first such error is raised. An error after the joint
    hand-on's write (queueing a delivery) is raised as is: every bulletin is done and released,
    its deliveries recorded for the reconciler. An outage requeues the task. Without a valid
    rule set all wait; a retry or a requeue skips the items already handed on (the hand-on's
    write keeps only unseen items)."""
    posted, failed = _decoded(bulletins)
    try:
        new, error = ingest_group(services(), posted)
    except RuleSetError as exc:
        log.error("no valid rule set, %d bulletins wait: %s", len(bulletins), exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None
    failed = failed or error
    if failed is not None:
        raise failed
    return new


def _decoded(bulletins: list[dict[str, Any]]) -> tuple[list[Posted], Exception | None]:
    """The group's bulletins, their items decoded; one that does not decode is logged and left
    out (it stays in the intake); the first such error."""
    posted: list[Posted] = []
    failed: Exception | None = None
    for b in bulletins:
        try:
            parsed = _parsed(b["items"], b.get("fmt"))
            posted.append(Posted(b["source"], b["bulletin_id"], b.get("content_type"), parsed))
        except Exception as exc:  # the others go on
            log.exception("bulletin %s failed", b.get("bulletin_id"))
            failed = failed or exc
    return posted, failed


def _parsed(items: list[dict[str, Any]], fmt: str | None) -> Parsed:
    """The items the API parsed, decoded."""
    return Parsed([Item.model_validate(i) for i in items], fmt or "unknown")


def _ingest(
    source: str,
    content_b64: str,
    content_type: str | None,
    bulletin_id: str | None,
    parsed: Parsed | None,
) -> int:
    """``bulletins.ingest_bulletin`` with what the API parsed, if anything; the new items."""
    args = (source, content_b64, content_type, bulletin_id)
    return len(bulletins.ingest_bulletin(services(), *args, parsed=parsed))


@app.task(name="alerts.poll_sources")
@requeue_on_outage
def poll_sources() -> int:
    """Queue a poll of every configured source that is due; check the sources' health."""
    return upkeep.poll_due_sources(services())


@app.task(name="alerts.poll_source")
@requeue_on_outage
def poll_source(source_id: str) -> list[str]:
    """Fetch one source; its new items go to matching."""
    return upkeep.poll_source(services(), source_id)


@app.task(name="alerts.match_items", bind=True, max_retries=None)
@requeue_on_outage
def match_items(self: Any, items: list[dict[str, Any]]) -> int:
    """Match items against the current rule set; queue one delivery per (alert, channel)."""
    try:
        return bulletins.match_items(services(), [Item.model_validate(i) for i in items])
    except RuleSetError as exc:  # no good rule set yet: keep the items until one loads
        log.error("no valid rule set, items wait: %s", exc)
        raise self.retry(countdown=RULES_RETRY_SECONDS) from None


@app.task(name="alerts.deliver_alert", bind=True, max_retries=None)
@requeue_on_outage
def deliver_alert(self: Any, alert: dict[str, Any], channel: str) -> str:
    """Run the delivery stages for one (alert, channel); retry when they say so."""
    outcome = upkeep.deliver(services(), Alert.model_validate(alert), channel)
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
    return upkeep.flush_digests(services())


@app.task(name="alerts.reconcile")
@requeue_on_outage
def reconcile() -> int:
    """Re-queue deliveries stuck past their lease, and bulletins never ingested (see intake)."""
    return upkeep.reconcile(services())


class CeleryQueues:
    """The use cases' ``Queues``: the next step as a Celery task."""

    def delivery(self, alert: Alert, channel: str, countdown: float | None) -> None:
        """Queue a ``deliver_alert`` task, now or after ``countdown`` seconds."""
        payload = alert.model_dump(mode="json")
        queue = delivery_queue(runtime().settings, alert.watch)  # its shard's, when sharded
        if countdown is None and queue == QUEUE:
            deliver_alert.delay(payload, channel)
        else:
            deliver_alert.apply_async((payload, channel), countdown=countdown, queue=queue)

    def match(self, batch: list[Item]) -> None:
        """Queue a ``match_items`` task for a batch (one per shard when sharded)."""
        payload = [item.model_dump(mode="json") for item in batch]
        shards = runtime().settings.worker.shards
        for shard in range(shards) if shards > 1 else ():
            match_items.apply_async((payload,), queue=shard_queue(shard))
        if shards == 1:
            match_items.delay(payload)

    def bulletin(
        self,
        source: str,
        content_b64: str,
        content_type: str | None,
        bulletin_id: str | None,
        parsed: Parsed | None = None,
    ) -> None:
        """Queue an ``ingest_bulletin`` task (with the parsed items, when there are some)."""
        ingest_bulletin.delay(
            source, content_b64, content_type, bulletin_id=bulletin_id, **task_items(parsed)
        )

    def poll(self, source_id: str) -> None:
        """Queue a ``poll_source`` task."""
        poll_source.delay(source_id)


def task_items(parsed: Parsed | None) -> dict[str, Any]:
    """The ``items`` and ``fmt`` arguments of ``ingest_bulletin`` (none for a raw bulletin)."""
    if parsed is None:
        return {}
    return {"items": [i.model_dump(mode="json") for i in parsed.items], "fmt": parsed.format}
