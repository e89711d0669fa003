"""deliver(): dedup gate -> route -> silence -> story -> throttle/digest -> pace -> send -> record.

The dedup gate runs first so a redelivered task for a finished row answers ``duplicate``
whatever the rules say now.

Like Alertmanager's notify pipeline, "sent" is written only after the notifier said so. A send
is guarded by a leased claim; a row left in ``sending`` by a crashed worker is resent once the
lease is gone, and flagged ``possible_duplicate``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta

from alerts.delivery.buffer import Held, bucket_of
from alerts.delivery.deps import DeliveryDeps, Outcome
from alerts.delivery.ledger import Begun, DeliveryRow, row_id
from alerts.delivery.minhash import signature
from alerts.delivery.retry import backoff, should_retry
from alerts.delivery.silences import Silence
from alerts.delivery.stages import (
    Hold,
    Story,
    assign_story,
    goes_straight,
    hold,
    ledger_gate,
    pace_of,
    pace_wait,
    placement,
    route,
    silence_reason,
)
from alerts.delivery.store import finish_sent, look
from alerts.delivery.straight import Ahead, Straight, place_and_begin
from alerts.models import Alert
from alerts.notify.base import SendResult
from alerts.redis_conn import NotReplicated
from alerts.rules.notify import NotifySpec

# Finishes left to the caller (``deliver``'s ``later``): each sent row as written, its token.
Later = list[tuple[DeliveryRow, str]]


def deliver(
    alert: Alert,
    channel: str,
    *,
    deps: DeliveryDeps,
    pending: DeliveryRow | None = None,
    silences: Sequence[Silence] | None = None,
    fresh: bool = False,
    stepped: tuple[Ahead, Straight] | None = None,
    later: Later | None = None,
) -> Outcome:
    """Run every stage for one (alert, channel) and say how it ended.

    ``pending``: the row as its caller has just recorded it; a ``pending`` one saves reading it
    back (the claim step re-reads under the claim anyway). ``silences``: as the caller read
    them with that write (see ``handoff``); else they are read with the row, in one round trip.
    ``fresh``: the caller's write has just found the item new, so nothing has placed it in a
    story yet (the placement skips looking; see ``stories_lua``). ``stepped``: the write that
    recorded ``pending`` took its straight step too (``ahead``; ``handoff_lua``): the stages
    before it were judged then, and what it ended with is taken from there. ``later``: a sent
    row's finish is added there, for the caller to write (``store.finish_all``), not written.
    """
    if stepped is not None and pending is not None and silences is not None:
        return _stepped(deps, alert, pending, silences, *stepped, later)
    now = deps.clock()
    found: DeliveryRow | None = pending
    claim_left: float | None = None
    if pending is None or pending.status != "pending" or silences is None:
        rid = row_id(alert.delivery_key(channel))
        found, claim_left, silences = look(deps.store, rid, now)
    row = found or DeliveryRow.new(alert, channel, now)
    gate = ledger_gate(row, now, claim_left)
    if gate is not None:
        return gate
    if row.status == "sending":  # its worker died holding the claim: it may have sent
        row = row.model_copy(update={"possible_duplicate": True})
    spec = route(alert, channel, deps)
    if spec is None:
        return _finish(deps, row.moved("dead", now, last_error="channel not routed"), "dead")
    muted = silence_reason(alert, channel, spec, now, deps, silences=silences)
    if muted is not None:
        return _finish(deps, row.moved("silenced", now, detail=muted), "silenced")
    if goes_straight(spec, now, silences):
        return _straight(deps, alert, spec, row, silences, fresh, later)
    story = assign_story(alert, now, deps, channel)
    return _placed(deps, alert, spec, row, story, now, silences, later)


def _placed(
    deps: DeliveryDeps,
    alert: Alert,
    spec: NotifySpec,
    row: DeliveryRow,
    story: Story,
    now: datetime,
    silences: Sequence[Silence],
    later: Later | None = None,
) -> Outcome:
    """The stages after the story: its silences, the holds, pacing, then the send."""
    channel = row.channel
    muted = silence_reason(alert, channel, spec, now, deps, story.id, silences)  # a story's own
    if muted is not None:
        return _finish(deps, row.moved("silenced", now, detail=muted, story=story.id), "silenced")
    held = hold(alert, channel, spec, story, now, deps)
    if held is not None:
        return _hold(deps, row, story, held, now)
    wait = pace_wait(channel, row.key, now, deps)
    if wait > 0:
        return _retry(deps, row.model_copy(update={"story": story.id}), wait, now, "paced")
    reply_to = story.thread if story.followup else None
    return send_and_record(deps, row.model_copy(update={"story": story.id}), reply_to, later)


def _straight(
    deps: DeliveryDeps,
    alert: Alert,
    spec: NotifySpec,
    row: DeliveryRow,
    silences: Sequence[Silence],
    fresh: bool = False,
    later: Later | None = None,
) -> Outcome:
    """Place the story, take the pacing token and claim the row in one step (``straight``);
    a follow-up comes back untouched and takes the stages after the story."""
    a = _ahead(deps, alert, spec, row, deps.clock())
    done = place_and_begin(deps.store, a.sig, a.new, a.sending, a.claim, a.pace, fresh=fresh)
    return _stepped(deps, alert, row, silences, a, done, later)


def _stepped(
    deps: DeliveryDeps,
    alert: Alert,
    row: DeliveryRow,
    silences: Sequence[Silence],
    a: Ahead,
    done: Straight,
    later: Later | None = None,
) -> Outcome:
    """After the straight step: a wait, a follow-up's stages after the story, or the send."""
    now = a.claim[2]
    if done.wait > 0:
        return _retry(deps, row.model_copy(update={"story": done.story}), done.wait, now, "paced")
    if done.begun is None:
        followed = Story(id=done.story, followup=True, thread=done.thread)
        return _placed(deps, alert, a.spec, row, followed, now, silences, later)
    return _sent(deps, row, a.sending, a.token, done.begun, None, later)


def straight_ahead(
    alert: Alert, row: DeliveryRow, deps: DeliveryDeps, silences: Sequence[Silence]
) -> Ahead | None:
    """The straight step's inputs for the ``pending`` row a write is about to record, when
    that write may take the step (``handoff_lua``): the channel routed, not muted, nothing but
    the story and pacing to hold it back (judged by ``silences``: the write checks they are
    still the stored ones), and the claim keeping the row's wake time (its ``wake`` entry as
    the insert writes it)."""
    now = deps.clock()
    spec = route(alert, row.channel, deps)
    if spec is None or silence_reason(alert, row.channel, spec, now, deps, None, silences):
        return None
    if not goes_straight(spec, now, silences):
        return None
    a = _ahead(deps, alert, spec, row, now)
    return a if a.sending.wake_at == row.wake_at else None


def _ahead(
    deps: DeliveryDeps, alert: Alert, spec: NotifySpec, row: DeliveryRow, now: datetime
) -> Ahead:
    new = placement(alert, now, deps, row.channel)
    token, sending = _claiming(deps, row, now, story=new.story)
    claim = (token, deps.conf.lease_seconds, now)
    pace = pace_of(row.channel, row.key, deps)
    return Ahead(spec, new, signature(alert.item), token, sending, claim, pace)


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
    deps.store.ledger.save(_retrying(row, wait, now, deps, why))
    return Outcome(status="retry", retry_after=wait, detail=why)


def _retrying(
    row: DeliveryRow, wait: float, now: datetime, deps: DeliveryDeps, why: str
) -> DeliveryRow:
    at = now + timedelta(seconds=wait)
    grace = timedelta(seconds=deps.conf.lease_seconds)
    return row.moved("retrying", now, next_attempt_at=at, wake_at=at + grace, detail=why)


def send_and_record(
    deps: DeliveryDeps, row: DeliveryRow, reply_to: str | None, later: Later | None = None
) -> Outcome:
    """Claim the row, send once, record the result, release the claim (``later``: as
    ``deliver``'s)."""
    now = deps.clock()
    token, sending = _claiming(deps, row, now)
    # Claim, re-read under the claim (a twin task may have sent and released since this one read
    # the row) and write "sending": one step.
    begun = deps.store.ledger.begin_send(sending, token, deps.conf.lease_seconds, now)
    return _sent(deps, row, sending, token, begun, reply_to, later)


def _claiming(
    deps: DeliveryDeps, row: DeliveryRow, now: datetime, *, story: str | None = None
) -> tuple[str, DeliveryRow]:
    """A fresh claim token and the row as ``begin_send`` writes it (``sending``; in ``story``
    when given, in one copy of the row).

    Its wake time is a lease on, or a pending row's own when that is at least half a lease on
    (an inline send just after the record): then its ``wake`` entry stays as it is (one ZADD
    less), and a worker that dies mid-send is woken no later than a lease on either way."""
    lease = deps.conf.lease_seconds
    wake = now + timedelta(seconds=lease)
    kept = row.wake_at if row.status == "pending" else None
    if kept is not None and now + timedelta(seconds=lease / 2) <= kept <= wake:
        wake = kept
    sending = row.moved(
        "sending",
        now,
        attempts=row.attempts + 1,
        wake_at=wake,
        possible_duplicate=row.possible_duplicate or row.status == "sending",
        **({} if story is None else {"story": story}),
    )
    return os.urandom(16).hex(), sending  # random as uuid4's hex, without its object


def _sent(
    deps: DeliveryDeps,
    row: DeliveryRow,
    sending: DeliveryRow,
    token: str,
    begun: Begun,
    reply_to: str | None,
    later: Later | None = None,
) -> Outcome:
    """After ``begin_send``: send once under the claim, record the result, release the claim
    (or leave that to ``later``'s owner)."""
    ledger = deps.store.ledger
    if begun.outcome == "held":
        return Outcome(status="retry", retry_after=begun.left, detail="another worker is sending")
    if begun.outcome == "finished":
        return Outcome(status="duplicate", detail=f"already {begun.status}")
    try:
        if begun.outcome == "lapsed":  # a worker died after claiming: it may have sent
            sending = sending.model_copy(update={"possible_duplicate": True})
            ledger.save(sending)
        try:
            ledger.confirm_claim()
        except NotReplicated:  # the claim is on the master alone: undo it, send nothing
            ledger.save(row)
            raise
        done, outcome = record(deps, sending, _send(deps, sending, reply_to))
    except BaseException:
        ledger.release(row.id, token)
        raise
    if later is None:
        finish_sent(deps.store, done, token)  # with a new thread's ref, in the same round trip
    else:
        later.append((done, token))
    return outcome


def _send(deps: DeliveryDeps, row: DeliveryRow, reply_to: str | None) -> SendResult:
    try:
        return deps.notifier.send(row.channel, row.alert, reply_to=reply_to)
    except Exception as exc:  # the port promises not to raise; a bug must not lose the alert
        return SendResult(ok=False, retryable=True, error=f"notifier raised {type(exc).__name__}")


_SENT = Outcome(status="sent", detail="sent")  # frozen: one for every plain send


def record(deps: DeliveryDeps, row: DeliveryRow, result: SendResult) -> tuple[DeliveryRow, Outcome]:
    """The row to write after a send (sent, retrying with backoff, or dead) and the outcome."""
    now = deps.clock()
    if result.ok:  # its thread ref, if any, is remembered with the row (``finish_sent``)
        detail = "possible duplicate: resent after a lost claim" if row.possible_duplicate else ""
        sent = row.moved(
            "sent", now, sent_at=now, thread_ref=result.thread_ref, last_error="", detail=detail
        )
        return sent, Outcome(status="sent", detail=detail) if detail else _SENT
    error = deps.scrub(result.error or "send failed")
    conf = deps.conf
    if not should_retry(row.attempts, conf.max_attempts, retryable=result.retryable):
        why = "permanent failure" if not result.retryable else f"gave up after {row.attempts}"
        dead = row.moved("dead", now, last_error=error, detail=why)
        return dead, Outcome(status="dead", detail=f"{why}: {error}")
    wait = backoff(
        row.attempts,
        base=conf.backoff_base,
        cap=conf.backoff_cap,
        rng=deps.rng,
        retry_after=result.retry_after,
        retry_after_cap=conf.retry_after_cap,
    )
    why = f"attempt {row.attempts} failed: {error}"
    failed = _retrying(row.model_copy(update={"last_error": error}), wait, now, deps, why)
    return failed, Outcome(status="retry", retry_after=wait, detail=why)
