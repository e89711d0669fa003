"""Source health alerts: check every configured source, tell the ops channel, then recovery.

Both the alert and its recovery notice are ordinary alerts of a reserved watch: recorded
``pending`` in the delivery ledger before the health record moves on, then sent like any other
(retries, the reconciler, dedup). A check that crashes in between raises the same notice again,
and the ledger sends it once. No Celery here: the beat's poll task calls ``check``.
"""

from __future__ import annotations

import logging
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from datetime import datetime

from alerts.handoff import Handoff, record_all, send_or_queue
from alerts.ingest.health import (
    Health,
    HealthStore,
    Notice,
    SourceHealthSettings,
    assess,
    problem,
)
from alerts.ingest.settings import SourceSettings
from alerts.ingest.state import SourceStateStore
from alerts.models import Alert, Item
from alerts.observe import metrics

log = logging.getLogger(__name__)
OPS_WATCH = "_ops.source-health"  # a rule id cannot start with '_': no clash with a watch
_TITLES = {
    "failing": "Source {source} is failing",
    "quiet": "Source {source} has gone quiet",
    "recovered": "Source {source} has recovered",
}


def notice_alert(notice: Notice, channel: str, now: datetime) -> Alert:
    """The ops alert for one notice; its item id makes it one ledger row per incident and kind."""
    phase = "recovered" if notice.kind == "recovered" else "open"
    item = Item(
        id=f"source-health:{notice.source}:{notice.incident}:{phase}",
        source=notice.source,
        title=_TITLES[notice.kind].format(source=notice.source),
        body=notice.detail,
        published=now,
    )
    return Alert(
        watch=OPS_WATCH, watch_name="Source health", item=item, hits=(), channels=(channel,)
    )


def check(
    sources: Sequence[SourceSettings],
    conf: SourceHealthSettings,
    *,
    states: SourceStateStore,
    health: HealthStore,
    h: Handoff,
) -> list[Notice]:
    """Assess every source; record, then send, a notice for each that fell ill or recovered."""
    if conf.channel is None:
        return []
    now = h.clock()
    sent: list[Notice] = []
    for src in sources:
        record = health.get(src.id)
        after, notice = _assess(src, conf, states, health.last_new(src.id), record, now)
        if notice is None:
            if after != record:
                health.put(src.id, after)
            continue
        jobs = record_all([notice_alert(notice, conf.channel, now)], h.delivery)
        health.put(src.id, after)
        send_or_queue(jobs, h)
        metrics.health_notice(src.id, notice.kind)
        log.warning(
            "source %s: %s (incident %d): %s", src.id, notice.kind, notice.incident,
            notice.detail, extra={"source": src.id, "incident": notice.incident},
        )  # fmt: skip
        sent.append(notice)
    return sent


def _assess(
    src: SourceSettings,
    conf: SourceHealthSettings,
    states: SourceStateStore,
    last_new: datetime | None,
    record: Health,
    now: datetime,
) -> tuple[Health, Notice | None]:
    """One source's next health record and notice; quiet counts from its last new item."""
    since = last_new or record.watched_since or now
    quiet = src.quiet_after if src.quiet_after is not None else conf.quiet_after
    found = problem(states.get(src.id), since, now, failures=conf.failures, quiet_after=quiet)
    return assess(record, found, now, src.id)


def saw_new(
    items: Sequence[Item], store: HealthStore | None, now: datetime, configured: Iterable[str]
) -> None:
    """Count new items by source and note when each configured source last gave one."""
    by_source = Tally(item.source for item in items)
    for source, count in by_source.items():
        metrics.items_new(metrics.source_label(source), count)
    if store is not None:
        store.saw_new(set(by_source) & set(configured), now)
