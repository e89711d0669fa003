"""Use cases of new items: ingest a bulletin, hand on polled items, match queued items.

The order is the at-least-once guarantee (``handoff``): deliveries are recorded ``pending``
before the items are remembered as seen. ``RuleSetError`` (no valid rule set) passes up with
nothing remembered, so the caller retries and the intake keeps the bulletin.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from alerts import handoff, item_steps, source_health
from alerts.ingest import ParseError
from alerts.models import Alert, Item
from alerts.rules import RuleSetError
from alerts.usecases.context import Parsed, Services

log = logging.getLogger(__name__)


def ingest_bulletin(
    s: Services,
    source: str,
    content_b64: str,
    content_type: str | None = None,
    bulletin_id: str | None = None,
    parsed: Parsed | None = None,
) -> list[str]:
    """Parse a bulletin (unless the API did: ``parsed``), hand on up to ``worker.ingest_chunk``
    new items, queue a follow-up for the rest (each task stays well inside the visibility
    timeout); then drop it from the intake.
    """
    chunk = s.settings.worker.ingest_chunk
    ids = {"source": source, "bulletin_id": bulletin_id or ""}
    try:
        items, checked = _new_items(s, source, content_b64, content_type, parsed)
        # The last chunk releases the bulletin from the intake with the items' own write.
        last = len(items) <= chunk and s.intake is not None
        done = (bulletin_id,) if last and bulletin_id else ()
        # Seen from now: the follow-up skips them.
        handed = hand_on_new(s, items[:chunk], done=done, checked=checked)
    except ParseError as exc:
        log.warning("bulletin from %s refused: %s", source, exc, extra=ids)
        items, handed = [], []
        if bulletin_id and s.intake is not None:
            s.intake.done(bulletin_id)
    if len(items) > chunk:  # the intake keeps it, its wake time pushed past the follow-up
        if bulletin_id and s.intake is not None:
            later = s.clock() + timedelta(seconds=s.settings.worker.visibility_timeout)
            s.intake.extend(bulletin_id, later)
        s.queues.bulletin(source, content_b64, content_type, bulletin_id, parsed)
    _logged(source, bulletin_id or "", handed)
    return handed


def _logged(source: str, bulletin_id: str, handed: list[str]) -> None:
    """A bulletin's line: how many of its items were new, and their ids."""
    extra = {"source": source, "bulletin_id": bulletin_id, "item_ids": handed}
    log.info("bulletin from %s: %d new items", source, len(handed), extra=extra)


def _new_items(
    s: Services, source: str, content_b64: str, content_type: str | None, parsed: Parsed | None
) -> tuple[list[Item], bool]:
    """The bulletin's items never ingested before, counted in the metrics either way, and
    whether they were checked: the API's items of one chunk, unsharded, are not (the hand-on's
    write checks them, saving a round trip: ``handoff_commit.write`` with ``check``)."""
    if parsed is not None:
        items = item_steps.counted(parsed.items, source=source, fmt=parsed.format)
        unique = item_steps.once_each(items, received=s.clock())
        if len(unique) <= s.settings.worker.ingest_chunk and s.settings.worker.shards == 1:
            return unique, False
        return item_steps.fresh(unique, s.seen), True
    configured = s.settings.source(source)
    found = item_steps.new_items(
        base64.b64decode(content_b64),
        source=source,
        content_type=content_type,
        seen=s.seen,
        received=s.clock(),
        language=configured.language if configured else None,
    )
    return found, True


def hand_on_new(
    s: Services, items: list[Item], *, done: tuple[str, ...] = (), checked: bool = True
) -> list[str]:
    """Match, record pending, remember, send (``handoff.hand_on``); RuleSetError passes up.

    With watch shards, the items go to every shard's queue instead, then are remembered.
    ``done``: the intake's bulletins to release with the items' write. ``checked=False``: the
    write finds which items are new (unsharded only).
    """
    if s.settings.worker.shards > 1:
        handed = handoff.park(items, s.handoff(), s.queues.match, done=done)
    else:
        handed = handoff.hand_on(items, s.rules, s.handoff(), done=done, checked=checked)
    _saw_new(s, items, None if checked else handed)
    return handed


@dataclass(frozen=True)
class Posted:
    """One bulletin of a group the API wrote together (``alerts.api.batcher``), as parsed."""

    source: str
    bulletin_id: str
    content_type: str | None
    parsed: Parsed


class _Written(Exception):
    """An error after the group's write (its cause), told from one before it."""


def ingest_group(s: Services, group: Sequence[Posted]) -> tuple[int, Exception | None]:
    """Ingest bulletins the API wrote together, each as ``ingest_bulletin`` would (its log
    line, its count), but the items of all in one hand-on (``_together``); how many items were
    new, and the first error of a bulletin that failed (the others done, it left in the intake:
    the reconciler queues it again).

    When the joint hand-on fails before its write, each bulletin not done yet goes on its own
    (``ingest_bulletin``), to find the one that fails. Raised as they are: RuleSetError (no
    valid rule set: a retry ingests all again, their items seen skipped), an outage of the
    stores or queues (``Services.outages``), and an error after the joint write (its items
    seen, its deliveries recorded, its bulletins released: on its own each would find nothing).
    """
    done: dict[str, int] = {}  # the bulletins finished (logged and counted): their new items
    try:
        return _together(s, group, done), None
    except _Written as exc:
        cause = exc.__cause__
        assert isinstance(cause, Exception)
        raise cause from cause.__cause__
    except _passing(s):
        raise
    except Exception as exc:
        log.error("a group of %d bulletins failed; each on its own", len(group), exc_info=exc)
    new, failed = _each_alone(s, [p for p in group if p.bulletin_id not in done])
    return sum(done.values()) + new, failed


def _each_alone(s: Services, group: Sequence[Posted]) -> tuple[int, Exception | None]:
    """Each bulletin through ``ingest_bulletin`` on its own; one that fails (an outage or no
    rule set aside) is logged and left in the intake. The new items and the first error."""
    new, failed = 0, None
    for p in group:
        try:
            new += len(ingest_bulletin(s, p.source, "", p.content_type, p.bulletin_id, p.parsed))
        except _passing(s):
            raise
        except Exception as exc:  # the others go on
            log.exception("bulletin %s failed", p.bulletin_id)
            failed = failed or exc
    return new, failed


def _passing(s: Services) -> tuple[type[Exception], ...]:
    """What no bulletin on its own would mend: no valid rule set, an outage."""
    return (RuleSetError, *s.outages)


def _together(s: Services, group: Sequence[Posted], done: dict[str, int]) -> int:
    """The group's items in one hand-on: one write checks them, records their deliveries and
    releases every bulletin from the intake. A bulletin of more than one chunk, or with watch
    shards, goes through ``ingest_bulletin`` on its own, first. How many items were new; each
    bulletin finished is entered in ``done`` as it is. An error after the write is raised as
    ``_Written``."""
    conf = s.settings.worker
    joint = list[tuple[Posted, list[Item]]]()
    for p in group:
        if conf.shards > 1 or len(p.parsed.items) > conf.ingest_chunk:
            handed = ingest_bulletin(s, p.source, "", p.content_type, p.bulletin_id, p.parsed)
            done[p.bulletin_id] = len(handed)
        else:
            joint.append((p, item_steps.once_each(p.parsed.items, received=s.clock())))
    return sum(done.values()) + (_hand_on_group(s, joint) if joint else 0)


def _hand_on_group(s: Services, joint: Sequence[tuple[Posted, list[Item]]]) -> int:
    """One hand-on for the bulletins' items (an item in two of them is the first one's);
    each bulletin counted (``items_parsed``) and its new items logged, as ``ingest_bulletin``
    does, once the hand-on went through; how many were new. An error after the write (queueing
    a delivery, ``_saw_new``) is raised as ``_Written``."""
    items: dict[str, Item] = {}
    for _, unique in joint:
        for item in unique:
            items.setdefault(item.id, item)
    h = s.handoff()
    n = len(joint)  # the inline sends each bulletin's own hand-on had
    h = replace(
        h, inline=h.inline * n, inline_budget=h.inline_budget * n, enqueue=_after_write(h.enqueue)
    )
    done = tuple(p.bulletin_id for p, _ in joint) if s.intake is not None else ()
    handed = set(handoff.hand_on(list(items.values()), s.rules, h, done=done, checked=False))
    try:
        _saw_new(s, list(items.values()), handed)
        new = 0
        for p, unique in joint:
            item_steps.counted(p.parsed.items, source=p.source, fmt=p.parsed.format)
            ids = [item.id for item in unique if item.id in handed]
            handed -= set(ids)  # new in the first bulletin that has it only
            _logged(p.source, p.bulletin_id, ids)
            new += len(ids)
    except Exception as exc:
        raise _Written from exc
    return new


def _after_write(enqueue: handoff.Enqueue) -> handoff.Enqueue:
    """``enqueue`` (the hand-on calls it after its write only), its error raised as
    ``_Written``."""

    def queue(alert: Alert, channel: str, wait: float | None) -> None:
        try:
            enqueue(alert, channel, wait)
        except Exception as exc:
            raise _Written from exc

    return queue


def poll_hand_on(s: Services, items: list[Item]) -> list[str]:
    """A polled source's new items: matched here, or parked in match tasks without rules."""
    fresh = item_steps.fresh(items, s.seen, received=s.clock())
    try:
        return hand_on_new(s, fresh)
    except RuleSetError as exc:
        log.error("no valid rule set, polled items wait in match tasks: %s", exc)
        parked = handoff.park(fresh, s.handoff(), s.queues.match)
        _saw_new(s, fresh)
        return parked


def match_items(s: Services, items: Sequence[Item]) -> int:
    """Match queued items against the current rule set (RuleSetError passes up); record and
    send or queue one delivery per (alert, channel)."""
    ruleset, matcher = s.rules()
    found = item_steps.alerts_for(items, ruleset, matcher)
    h = s.handoff()
    handoff.send_or_queue(handoff.record_all(found, h.delivery), h)
    return len(found)


def _saw_new(s: Services, items: list[Item], handed: Collection[str] | None = None) -> None:
    """The sources' health: they had new items. ``handed``: the ids of those a write that
    checked them kept (the others were seen before), when it did."""
    if handed is not None:
        kept = set(handed)
        items = [item for item in items if item.id in kept]
    configured = (src.id for src in s.settings.sources)
    source_health.saw_new(items, s.health, s.clock(), configured)
