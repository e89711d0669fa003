"""The storm: 500 matches in a minute for one watch, throttled to 60/h, on a real Redis."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import timedelta

from alerts.clock import FrozenClock
from alerts.delivery import NotifySpec, list_deliveries, redis_store
from alerts.delivery.digests import due_digests, flush_due_digests
from alerts.delivery.settings import DeliverySettings
from alerts.models import Digest
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps, run_worker

SPEC = NotifySpec(channels=("slack",), throttle={"max": 60, "per": "1h"})


def test_storm_of_500_gives_at_most_60_posts_and_counts_adding_to_500(redis_client):
    clock = FrozenClock(T0)
    notifier = RecordingNotifier()
    store = redis_store(redis_client, DeliverySettings())
    deps = make_deps(
        notifier=notifier, spec=SPEC, clock=clock, store=store, pace_rate=1.0, pace_burst=1
    )
    jobs = [
        (T0 + timedelta(seconds=i * 0.12), make_alert(i, channels=("slack",)), "slack")
        for i in range(500)
    ]
    log = run_worker(deps, clock, jobs)
    # Each paced send waits for its own reserved slot: one retry each, no thundering herd.
    assert len(log) == 500 + 59
    first_hour = [c for c in notifier.sent]
    assert len(first_hour) == 60
    # Pacing: never two Slack posts less than one second apart.
    sent_at = [t for t, o in log if o.status == "sent"]
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(sent_at))
    assert Counter(o.status for _, o in log if o.status != "retry") == {
        "sent": 60,
        "throttled": 440,
    }

    # The overflow is one digest when the window closes; it takes a slot of the next window.
    assert due_digests(deps, clock.now) == []
    clock.now = T0 + timedelta(hours=1)
    [preview] = due_digests(deps, clock.now)
    assert preview.total == 440 and preview.reason == "throttled"
    assert [o.status for o in flush_due_digests(deps)] == ["sent"]
    digests = [c for _, c, _ in notifier.sent if isinstance(c, Digest)]
    assert len(digests) == 1
    assert sum(e.count for e in digests[0].entries) == digests[0].total == 440
    assert len(notifier.sent) - len(digests) + digests[0].total == 500
    assert flush_due_digests(deps) == []  # nothing left, nothing resent

    rows = list_deliveries(store, limit=1000)
    assert Counter(r.status for r in rows) == {"sent": 60, "digested": 440}
