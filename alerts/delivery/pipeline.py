"""deliver(): dedup gate -> route -> silence -> story -> throttle/digest -> pace -> send -> record.

The dedup gate runs first so a redelivered task for a finished row answers ``duplicate``
whatever the rules say now.

Like Alertmanager's notify pipeline, "sent" is written only after the notifier said so. A send
is guarded by a leased claim; a row left in ``sending`` by a crashed worker is resent once the
lease is gone, and flagged ``possible_duplicate``.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from alerts.delivery.buffer import Held, bucket_of
from alerts.delivery.deps import DeliveryDeps, Outcome
from alerts.delivery.ledger import FINAL, DeliveryRow, row_id
from alerts.delivery.retry import backoff, should_retry
from alerts.delivery.stages import (
    Hold,
    Story,
    assign_story,
    hold,
    ledger_gate,
    pace_wait,
    route,
    silence_reason,
)
from alerts.models import Alert
from alerts.notify.base import SendResult


def deliver(alert: Alert, channel: str, *, deps: DeliveryDeps) -> Outcome:
    """Run every stage for one (alert, channel) and say how it ended."""
    now = deps.clock()
    row = deps.store.ledger.get(row_id(alert.delivery_key(channel)))
    row = row or DeliveryRow.new(alert, channel, now)
    gate = ledger_gate(row, now, deps)
    if gate is not None:
        return gate
    if row.status == "sending":  # its worker died holding the claim: it may have sent
        row = row.model_copy(update={"possible_duplicate": True})
    spec = route(alert, channel, deps)
    if spec is None:
        return _finish(deps, row.moved("dead", now, last_error="channel not routed"), "dead")
    muted = silence_reason(alert, channel, spec, now, deps)
    if muted is not None:
        return _finish(deps, row.moved("silenced", now, detail=muted), "silenced")
    story = assign_story(alert, now, deps)
    held = hold(alert, channel, spec, story, now, deps)
    if held is not None:
        return _hold(deps, row, story, held, now)
    wait = pace_wait(channel, row.key, now, deps)
    if wait > 0:
        return _retry(deps, row.model_copy(update={"story": story.id}), wait, now, "paced")
    return send_and_record(
        deps, row.model_copy(update={"story": story.id}), _reply_to(deps, story, channel)
    )


def _reply_to(deps: DeliveryDeps, story: Story, channel: str) -> str | None:
    return deps.store.stories.thread(story.id, channel) if story.followup else None


def _finish(deps: DeliveryDeps, row: DeliveryRow, status: str, detail: str = "") -> Outcome:
    deps.store.ledger.save(row)
    return Outcome.model_validate(
        {"status": status, "detail": detail or row.detail or row.last_error}
    )


def _hold(deps: DeliveryDeps, row: DeliveryRow, story: Story, held: Hold, now: datetime) -> Outcome:
    entry = Held(key=row.key, story=story.id, reason=held.reason, at=now, alert=row.alert)
    deps.store.buffer.add(bucket_of(row.watch, row.channel), entry, held.due)
    detail = f"{held.reason}; digest due {held.due.isoformat()}"
    done = row.moved("digested", now, detail=detail, story=story.id)
    return _finish(deps, done, held.outcome, detail)


def _retry(deps: DeliveryDeps, row: DeliveryRow, wait: float, now: datetime, why: str) -> Outcome:
    at = now + timedelta(seconds=wait)
    grace = timedelta(seconds=deps.conf.lease_seconds)
    moved = row.moved("retrying", now, next_attempt_at=at, wake_at=at + grace, detail=why)
    deps.store.ledger.save(moved)
    return Outcome(status="retry", retry_after=wait, detail=why)


def send_and_record(deps: DeliveryDeps, row: DeliveryRow, reply_to: str | None) -> Outcome:
    """Claim the row, send once, record the result, release the claim."""
    now = deps.clock()
    token = uuid.uuid4().hex
    lease = deps.conf.lease_seconds
    ledger = deps.store.ledger
    if not ledger.claim(row.id, token, lease, now):
        left = ledger.claim_left(row.id, now) or lease
        return Outcome(status="retry", retry_after=left, detail="another worker is sending")
    # Re-read under the claim: a twin task may have sent and released since this one read the row.
    current = ledger.get(row.id)
    if current is not None and current.status in FINAL:
        ledger.release(row.id, token)
        return Outcome(status="duplicate", detail=f"already {current.status}")
    row = row if current is None else row.model_copy(update={"status": current.status})
    lapsed = row.status == "sending"  # a worker died after claiming: it may have sent
    row = row.moved(
        "sending",
        now,
        attempts=row.attempts + 1,
        wake_at=now + timedelta(seconds=lease),
        possible_duplicate=row.possible_duplicate or lapsed,
    )
    ledger.save(row)
    try:
        result = _send(deps, row, reply_to)
        return record(deps, row, result)
    finally:
        ledger.release(row.id, token)


def _send(deps: DeliveryDeps, row: DeliveryRow, reply_to: str | None) -> SendResult:
    try:
        return deps.notifier.send(row.channel, row.alert, reply_to=reply_to)
    except Exception as exc:  # the port promises not to raise; a bug must not lose the alert
        return SendResult(ok=False, retryable=True, error=f"notifier raised {type(exc).__name__}")


def record(deps: DeliveryDeps, row: DeliveryRow, result: SendResult) -> Outcome:
    """Write the row after a send: sent, retrying (with backoff) or dead."""
    now = deps.clock()
    if result.ok:
        if row.story and result.thread_ref:
            deps.store.stories.set_thread(row.story, row.channel, result.thread_ref)
        detail = "possible duplicate: resent after a lost claim" if row.possible_duplicate else ""
        sent = row.moved(
            "sent", now, sent_at=now, thread_ref=result.thread_ref, last_error="", detail=detail
        )
        return _finish(deps, sent, "sent", detail or "sent")
    error = deps.scrub(result.error or "send failed")
    conf = deps.conf
    if not should_retry(row.attempts, conf.max_attempts, retryable=result.retryable):
        why = "permanent failure" if not result.retryable else f"gave up after {row.attempts}"
        dead = row.moved("dead", now, last_error=error, detail=why)
        return _finish(deps, dead, "dead", f"{why}: {error}")
    wait = backoff(
        row.attempts,
        base=conf.backoff_base,
        cap=conf.backoff_cap,
        rng=deps.rng,
        retry_after=result.retry_after,
    )
    failed = row.model_copy(update={"last_error": error})
    return _retry(deps, failed, wait, now, f"attempt {row.attempts} failed: {error}")
