"""Digests: held alerts grouped by story and sent as one message when their bucket is due."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts.delivery.buffer import Held, bucket_of
from alerts.delivery.deps import DeliveryDeps, Outcome
from alerts.delivery.ledger import row_id
from alerts.delivery.retry import backoff, should_retry
from alerts.delivery.stages import pace_wait, throttle_refusal
from alerts.models import Digest, DigestEntry
from alerts.notify.base import SendResult

_REASONS = ("digest", "throttled", "quiet_hours")


def build_digest(watch: str, channel: str, held: list[Held]) -> Digest:
    """One digest of ``held``: an entry per story (first alert, count), in arrival order."""
    counts: Counter[str] = Counter(h.story for h in held)
    firsts: dict[str, Held] = {}
    for h in sorted(held, key=lambda h: h.at):
        firsts.setdefault(h.story, h)
    entries = tuple(
        DigestEntry(story=story, alert=first.alert, count=counts[story])
        for story, first in firsts.items()
    )
    reasons = Counter(h.reason if h.reason in _REASONS else "digest" for h in held)
    reason = reasons.most_common(1)[0][0] if reasons else "digest"
    name = held[0].alert.watch_name if held else watch
    return Digest(
        watch=watch,
        watch_name=name,
        channel=channel,
        entries=entries,
        total=len(held),
        reason=reason,
    )


def _split(bucket: str) -> tuple[str, str]:
    watch, _, channel = bucket.rpartition("|")
    return watch, channel


def due_digests(deps: DeliveryDeps, now: datetime) -> list[Digest]:
    """The digests due at ``now``, as they would be sent (nothing is taken)."""
    out = []
    for bucket in deps.store.buffer.due(now):
        held = deps.store.buffer.peek(bucket)
        if held:
            out.append(build_digest(*_split(bucket), held))
    return out


def _deferral(deps: DeliveryDeps, watch: str, channel: str, now: datetime) -> tuple[float, str]:
    """Seconds a digest must wait (quiet hours, throttle, pacing); 0.0 when it may go now.

    A digest is a message too: it takes a throttle slot, so no window ever holds more than
    ``throttle.max`` messages for a (watch, channel).
    """
    spec = deps.policies(watch)
    if spec is not None and spec.quiet_hours is not None and not spec.critical:
        end = spec.quiet_hours.end_if_quiet(now)
        if end is not None:
            return (end - now).total_seconds(), "quiet hours"
    if spec is not None:
        member = f"digest|{watch}|{channel}"  # one slot per window, however often deferred
        until = throttle_refusal(watch, channel, spec, member, now, deps)
        if until is not None:
            return (until - now).total_seconds(), "throttled"
    wait = pace_wait(channel, f"digest|{watch}|{channel}", now, deps)
    return wait, "paced"


# Told of every digest sent (or failed): channel, outcome status, alerts it carried.
Settled = Callable[[str, str, int], None]


def flush_digest(
    deps: DeliveryDeps, watch: str, channel: str, settled: Settled | None = None
) -> Outcome | None:
    """Send the held alerts of (watch, channel) as one digest; None when nothing is held."""
    now = deps.clock()
    bucket = bucket_of(watch, channel)
    wait, why = _deferral(deps, watch, channel, now)
    if wait > 0:
        deps.store.buffer.reschedule(bucket, now + timedelta(seconds=wait))
        return Outcome(status="retry", retry_after=wait, detail=f"digest deferred: {why}")
    held = deps.store.buffer.take(bucket)
    if not held:
        deps.store.buffer.done(bucket, now)
        return None
    digest = build_digest(watch, channel, held)
    outcome = _settle(deps, bucket, held, digest, deps.notifier.send(channel, digest))
    if settled is not None:
        settled(channel, outcome.status, digest.total)
    return outcome


def _settle(
    deps: DeliveryDeps, bucket: str, held: list[Held], digest: Digest, result: SendResult
) -> Outcome:
    """After a digest send: drop the bucket, retry it with backoff, or dead-letter its rows."""
    now = deps.clock()
    if result.ok:
        deps.store.buffer.done(bucket, now)
        _mark_sent(deps, held, now)
        return Outcome(status="sent", detail=f"digest of {digest.total}")
    error = deps.scrub(result.error or "send failed")
    attempts = deps.store.buffer.failed(bucket)
    if not should_retry(attempts, deps.conf.max_attempts, retryable=result.retryable):
        _bury(deps, held, error)
        deps.store.buffer.done(bucket, now)
        return Outcome(status="dead", detail=f"digest of {digest.total} dead: {error}")
    conf = deps.conf
    delay = backoff(
        attempts,
        base=conf.backoff_base,
        cap=conf.backoff_cap,
        rng=deps.rng,
        retry_after=result.retry_after,
        retry_after_cap=conf.retry_after_cap,
    )
    deps.store.buffer.reschedule(bucket, now + timedelta(seconds=delay))
    return Outcome(status="retry", retry_after=delay, detail=f"digest failed: {error}")


def _mark_sent(deps: DeliveryDeps, held: list[Held], now: datetime) -> None:
    """The held rows stay ``digested``; they learn when their digest went out."""
    for h in held:
        row = deps.store.ledger.get(row_id(h.key))
        if row is not None and row.status == "digested":
            deps.store.ledger.save(row.model_copy(update={"sent_at": now, "updated_at": now}))


def _bury(deps: DeliveryDeps, held: list[Held], error: str) -> None:
    """A digest refused for good: its rows go to the dead-letter list, one by one."""
    now = deps.clock()
    for h in held:
        row = deps.store.ledger.get(row_id(h.key))
        if row is not None:
            deps.store.ledger.save(
                row.moved("dead", now, last_error=error, detail="digest refused")
            )


def flush_due_digests(
    deps: DeliveryDeps,
    keep: Callable[[str], bool] | None = None,
    settled: Settled | None = None,
) -> list[Outcome]:
    """Flush every due digest (the beat task calls this); ``keep``: only these watches'."""
    now = deps.clock()
    outcomes = []
    for bucket in deps.store.buffer.due(now):
        watch, channel = _split(bucket)
        if keep is not None and not keep(watch):
            continue  # another shard's watch: its workers know its notify options
        outcome = flush_digest(deps, watch, channel, settled)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes
