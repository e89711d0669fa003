"""Handing new items on: match, record every delivery ``pending``, remember the items, send.

The order is the at-least-once guarantee: deliveries are recorded before the items are
remembered as seen, so a crash in between only hands the items on again (the ledger dedups).
On Redis the records, the items' writes, the bulletin's release from the intake and the
silences' read are one script (``commit``): one command, run by Redis atomically, in that order;
the inline deliveries' stories, pacing and claims ride in it too, in order (``straight_ahead``
for the first rows, judged by the silences the previous write read; ``handoff_lua`` checks
they still hold), so a group of items costs its write, its sends and one finish.
Two costs of taking those steps ahead: a worker killed after the write leaves every row it
claimed ``sending`` (not only the first), each resent flagged a possible duplicate once its
claim lapses; and a claimed row queued after all (the inline budget spent, or its claim aged:
``_unclaim``) has spent its pacing token, so its channel waits one more pacing interval.
No Celery here: the worker passes ``enqueue`` to queue a delivery task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

import redis

from alerts import item_steps
from alerts.clock import Clock
from alerts.delivery import DeliveryDeps, DeliveryRow, Outcome, deliver, record_pending
from alerts.delivery.ledger import row_id
from alerts.delivery.pipeline import Later, straight_ahead
from alerts.delivery.reconcile import pending_row
from alerts.delivery.silences import Silence
from alerts.delivery.store import finish_all, finish_sent
from alerts.delivery.straight import Ahead, Straight
from alerts.handoff_commit import Steps, commit, known_silences, write
from alerts.ingest.dedup import ItemArchive, SeenStore
from alerts.ingest.intake import Intake
from alerts.matching import Matcher
from alerts.models import Alert, Item
from alerts.observe import metrics
from alerts.rules import RuleSet

log = logging.getLogger(__name__)

Job = tuple[Alert, str, DeliveryRow]  # one delivery: alert, channel, its row as recorded
Enqueue = Callable[[Alert, str, float | None], None]  # alert, channel, countdown (None: now)
Rules = Callable[[], tuple[RuleSet, Matcher]]  # raises RuleSetError when none is valid


@dataclass(frozen=True)
class Handoff:
    """What handing items on needs: the stores, delivery, batch sizes and how to queue."""

    seen: SeenStore
    archive: ItemArchive
    delivery: DeliveryDeps
    clock: Clock
    enqueue: Enqueue
    match_batch: int = 50
    inline: int = 4
    intake: Intake | None = None
    inline_budget: float = 2.0  # seconds of inline sends before the rest are queued
    # The longest one inline send may take: an HTTP send's connect and read timeouts
    # (notify.http_timeout each; ``Services.handoff`` sets it from the settings). Held
    # finishes are written before a send that could take them past half a lease (``_due``).
    # An SMTP send at its slowest (several operations of notify.smtp_timeout) can outlast it,
    # as it can outlast its own claim.
    send_seconds: float = 20.0


def hand_on(
    items: Sequence[Item],
    rules: Rules,
    h: Handoff,
    *,
    done: tuple[str, ...] = (),
    checked: bool = True,
) -> list[str]:
    """Match items in chunks, record them all pending, remember the items, then send or queue;
    the ids of the items handed on.

    ``done``: the intake's bulletins these items finish, released with the same write.
    ``checked=False``: the items (unique ids) were not checked against ``h.seen``; the write
    checks them (``handoff_commit.write``, ``check``) and only the new ones are recorded,
    remembered and handed on.
    RuleSetError from ``rules`` (no valid rule set) leaves everything untouched.
    """
    if not items:
        commit(h, [], [], done)
        return []
    ruleset, matcher = rules()
    now = h.clock()
    rows: list[DeliveryRow] = []
    found: list[Alert] = []
    took: list[float] = []
    for chunk in item_steps.batches(items, h.match_batch):
        alerts, times = item_steps.timed_alerts(chunk, ruleset, matcher)
        found.extend(alerts)
        took.extend(times)
        rows.extend(pending_row(a, ch, now, h.delivery) for a in alerts for ch in a.channels)
    known = known_silences()
    aheads = _aheads(rows, h, known[1]) if h.inline_budget > 0 else []
    recorded, silences, fresh, steps = write(
        h, rows, items, done, check=not checked, aheads=aheads, known=known
    )
    if not checked:  # the write kept the new items only: one seen before is matched, not counted
        kept = {item.id for item in fresh}
        took = [t for item, t in zip(items, took, strict=True) if item.id in kept]
        found = [a for a in found if a.item.id in kept]
        items = fresh
    metrics.matched(took, (alert.watch for alert in found))
    jobs = [(row.alert, row.channel, row) for row in recorded]
    send_or_queue(jobs, h, silences, inserted_ids(rows, recorded), steps)
    return [item.id for item in items]


def _aheads(rows: Sequence[DeliveryRow], h: Handoff, silences: Sequence[Silence]) -> list[Ahead]:
    """The straight steps' inputs of the first rows (those that may be sent inline), up to the
    first that cannot take its step in the write (its delivery takes the stages one by one,
    and a later row's story must not be placed before its own)."""
    aheads: list[Ahead] = []
    for row in rows[: h.inline]:
        ahead = straight_ahead(row.alert, row, h.delivery, silences)
        if ahead is None:
            break
        aheads.append(ahead)
    return aheads


def park(
    items: Sequence[Item],
    h: Handoff,
    queue_batch: Callable[[list[Item]], None],
    *,
    done: tuple[str, ...] = (),
) -> list[str]:
    """Queue items in batches to be matched later (no valid rule set yet), then remember them
    (and release the bulletins ``done`` from the intake)."""
    for batch in item_steps.batches(items, h.match_batch):
        queue_batch(batch)
    commit(h, [], items, done)
    return [item.id for item in items]


def record_all(found: Sequence[Alert], deps: DeliveryDeps) -> list[Job]:
    """Record each (alert, channel) ``pending``: the reconciler's safety net from here on."""
    pairs = [(alert, channel) for alert in found for channel in alert.channels]
    return [(a, ch, record_pending(a, ch, deps=deps)) for a, ch in pairs]


def inserted_ids(rows: Sequence[DeliveryRow], recorded: Sequence[DeliveryRow]) -> set[str]:
    """Ids of the rows a write inserted: those it hands back as given (a row it found is
    handed back as found)."""
    given = {id(row) for row in rows}
    return {row.id for row in recorded if id(row) in given}


def send_or_queue(
    jobs: Sequence[Job],
    h: Handoff,
    silences: Sequence[Silence] | None = None,
    new: Collection[str] = (),
    steps: Steps | None = None,
) -> None:
    """Deliver the first ``h.inline`` jobs here, within ``h.inline_budget`` seconds; queue the rest.

    Sending here saves a task round trip per alert. A job that must wait (retry, pacing) or
    fails unexpectedly is queued; a crash leaves its ``pending`` row to the reconciler. Once the
    inline sends have taken the budget (a slow channel), the rest are queued, so matching is not
    held up by more than one slow send. ``silences``: as read with the rows' write (else each
    delivery reads them). ``new``: ids of rows this write inserted (their items placed nowhere
    yet: the story step skips looking for their placement). ``steps``: the straight steps
    the write took (``handoff_commit.write``), by row id: each such delivery goes on from
    there. But a follow-up of a story an earlier row of this
    hand-on started: its step was taken before that row was sent, when no thread ref could be
    read, so its delivery takes the step again (placing is idempotent) after the held finishes
    that carry a thread ref are written (``_due``), as one by one. A row whose claim the write
    took but that is queued (past the budget), or (but the first) whose claim the sends before
    it have aged too much to send under (``_aged``), is put back ``pending`` unclaimed first
    (the latter then takes its step again: its story is found placed, a second pacing token
    taken).

    The sent rows' finishes are written together after the sends, one round trip
    (``finish_all``), and only then is anything queued: a queued task never finds a row of
    this hand-on still ``sending``. Held finishes are written earlier when the next send, at
    its slowest (``h.send_seconds``), could take their claims past half a lease. A crash
    before that write leaves those rows ``sending``, resent (flagged possible duplicates) once
    their claims lapse, as a crash after any send did.
    """
    start, placed = h.clock(), set[tuple[str, str]]()
    steps = steps or {}
    # the stories the write's steps started (a follow-up of one follows an earlier row's)
    started = {ahead.new.story for ahead, _ in steps.values()} if len(steps) > 1 else ()
    later: Later = []
    queue: list[tuple[Alert, str, float | None]] = []
    try:
        for n, (alert, channel, row) in enumerate(jobs):
            spent = (h.clock() - start).total_seconds()
            took = steps.get(row.id) if steps else None
            if n >= h.inline or spent >= h.inline_budget:
                if took is not None:
                    _unclaim(row, took, h)
                queue.append((alert, channel, None))
                continue
            if _due(later, spent + h.send_seconds, h.delivery.conf.lease_seconds):
                _finish_held(later, h, queue)
            # placed by another channel's step, or by the write's step
            fresh = (
                row.id in new and row.id not in steps and (alert.watch, alert.item.id) not in placed
            )
            placed.add((alert.watch, alert.item.id))
            if took is not None and n > 0:  # the first job's step: as ever
                if _followed_here(took[1], started):
                    took = None
                elif _aged(took[0], h):
                    _unclaim(row, took, h)  # its claim could lapse mid-send: a fresh one taken
                    took = None
            outcome = _inline(alert, channel, row, h, silences, fresh, took, later)
            if outcome is None or outcome.status == "retry":
                wait = None if outcome is None else outcome.retry_after or 1.0
                queue.append((alert, channel, wait))
    finally:
        _finish_held(later, h, queue)
    for alert, channel, wait in queue:
        h.enqueue(alert, channel, wait)


def _followed_here(done: Straight, started: Collection[str]) -> bool:
    """Whether a step ended in a follow-up of a story a row of this hand-on started (its thread
    ref, if any, is not written yet)."""
    return done.begun is None and done.wait == 0 and done.story in started


def _aged(ahead: Ahead, h: Handoff) -> bool:
    """Whether a claim the write took is too old to send under: the send at its slowest could
    take it past half a lease (as ``_due`` judges the held ones), where the row's wake time is
    (the claim kept its ``pending`` wake: ``pipeline._claiming``)."""
    age = (h.clock() - ahead.claim[2]).total_seconds()
    return age + h.send_seconds >= h.delivery.conf.lease_seconds / 2


def _unclaim(row: DeliveryRow, took: tuple[Ahead, Straight], h: Handoff) -> None:
    """Put a row the write claimed, now queued, back ``pending`` and unclaimed in one step (the
    ledger's ``finish``: saved, never demoting a final row, and the claim dropped), so its task
    does not wait for the claim to lapse; a failure is left to that wait (the task resends
    once the claim lapses, flagged)."""
    if took[1].begun is None:
        return  # nothing claimed: the row is ``pending`` as recorded
    try:
        h.delivery.store.ledger.finish(row, took[0].token)
    except Exception as exc:
        _failed(row.alert, row.channel, exc)


def _inline(
    alert: Alert,
    channel: str,
    row: DeliveryRow,
    h: Handoff,
    silences: Sequence[Silence] | None,
    fresh: bool,
    stepped: tuple[Ahead, Straight] | None,
    later: Later,
) -> Outcome | None:
    """One inline delivery (a sent row's finish left in ``later``); None: it failed."""
    try:
        return deliver_one(
            alert, channel, h.delivery, pending=row, silences=silences, fresh=fresh,
            stepped=stepped, later=later,
        )  # fmt: skip
    except Exception as exc:  # an outage included: the queued task tries again (or rejects)
        _failed(alert, channel, exc)
        return None


def _due(later: Later, by: float, lease: float) -> bool:
    """Whether the finishes held must be written before the next send: one carries a new
    thread's ref (the next delivery may follow up its story and read it), or the sends so far
    and the next one at its slowest (``by`` seconds) may take half a lease (the held claims
    must not lapse before their finish)."""
    return bool(later) and (by >= lease / 2 or any(row.thread_ref for row, _ in later))


def _finish_held(later: Later, h: Handoff, queue: list[tuple[Alert, str, float | None]]) -> None:
    """Write the finishes held, in one round trip. When that fails for another reason than
    Redis gone (one row's script error, a reply that timed out), each is written on its own
    (``finish_sent``), as before they were batched; each delivery whose finish still fails is
    queued now, as a failed inline send is (its task finds the row as the write left it), in
    place of a retry it was to be queued for."""
    if not later:
        return
    held = list(later)
    later.clear()
    failed: list[tuple[DeliveryRow, Exception]]
    try:
        finish_all(h.delivery.store, held)
        return
    except redis.ConnectionError as gone:  # each write on its own would fail too
        failed = [(row, gone) for row, _ in held]
    except Exception:
        failed = list(_finish_each(held, h))
    lost = {(row.alert.key, row.channel) for row, _ in failed}
    queue[:] = [job for job in queue if (job[0].key, job[1]) not in lost]
    for row, error in failed:
        _failed(row.alert, row.channel, error)
        queue.append((row.alert, row.channel, None))


def _finish_each(held: Later, h: Handoff) -> Iterator[tuple[DeliveryRow, Exception]]:
    """``finish_sent`` each (row, token) held; (row, error) of each that failed."""
    for row, token in held:
        try:
            finish_sent(h.delivery.store, row, token)
        except Exception as exc:
            yield row, exc


def _failed(alert: Alert, channel: str, exc: Exception) -> None:
    log.warning(
        "inline delivery of %s to %s failed (%r); queued", alert.key, channel, exc,
        extra=delivery_ids(alert, channel),
    )  # fmt: skip


def delivery_ids(alert: Alert, channel: str, rid: str | None = None) -> dict[str, str]:
    """The ids every log line about one delivery carries (``extra=``); ``rid``: its row's id,
    when at hand (else hashed from the delivery key again)."""
    return {
        "item_id": alert.item.id,
        "watch": alert.watch,
        "channel": channel,
        "delivery_id": rid or row_id(alert.delivery_key(channel)),
    }


def deliver_one(
    alert: Alert,
    channel: str,
    deps: DeliveryDeps,
    *,
    pending: DeliveryRow | None = None,
    silences: Sequence[Silence] | None = None,
    fresh: bool = False,
    stepped: tuple[Ahead, Straight] | None = None,
    later: Later | None = None,
) -> Outcome:
    """``deliver``, counted in the metrics and logged with the delivery's ids.

    With ``later`` a ``sent`` is counted and logged before its finish is written (the
    caller's, batched): if that write then fails, the delivery is queued and sent again, and
    counted and logged again (flagged a possible duplicate), as any resend after a lost
    finish is."""
    outcome = deliver(
        alert, channel, deps=deps, pending=pending, silences=silences, fresh=fresh,
        stepped=stepped, later=later,
    )  # fmt: skip
    metrics.delivered(channel, outcome.status)
    level = logging.DEBUG if outcome.status == "duplicate" else logging.INFO
    ids = delivery_ids(alert, channel, pending.id if pending else None)
    ids["status"] = outcome.status
    log.log(level, "delivery %s: %s", outcome.status, outcome.detail or outcome.status, extra=ids)
    return outcome
