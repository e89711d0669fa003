"""Property: whatever the options, timing and transient failures, every alert goes out once.

Each alert ends up either in one immediate message or counted in exactly one digest; digest
totals equal the sum of their counts.
"""

from __future__ import annotations

import heapq
from collections import Counter
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.clock import FrozenClock
from alerts.delivery import NotifySpec, deliver, flush_due_digests
from alerts.models import Alert, Digest
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from tests.delivery.helpers import T0, make_alert, make_deps

SPECS = [
    NotifySpec(channels=("ops",), throttle="5/1h"),
    NotifySpec(channels=("ops",), mode="digest", schedule="hourly"),
    NotifySpec(channels=("ops",), quiet_hours={"start": "13:00", "end": "15:00", "tz": "UTC"}),
    NotifySpec(
        channels=("ops",),
        throttle="3/30m",
        quiet_hours={"start": "12:30", "end": "13:30", "tz": "Europe/Kyiv"},
    ),
]
FAIL = SendResult(ok=False, retryable=True, error="451")


def run(deps, clock: FrozenClock, alerts: list[tuple[float, Alert]]) -> None:
    """Deliveries (retried like Celery) and a digest flush every five minutes, in time order."""
    events = [(T0 + timedelta(seconds=at), i, "deliver", a) for i, (at, a) in enumerate(alerts)]
    end = T0 + timedelta(days=2)
    t, seq = T0, len(events)
    while t <= end:
        events.append((t, seq, "flush", None))
        t, seq = t + timedelta(minutes=5), seq + 1
    heapq.heapify(events)
    while events:
        when, _, kind, alert = heapq.heappop(events)
        clock.now = max(clock.now, when)
        if kind == "flush":
            flush_due_digests(deps)
            continue
        out = deliver(alert, "ops", deps=deps)
        if out.status == "retry":
            seq += 1
            later = clock.now + timedelta(seconds=out.retry_after or 0)
            heapq.heappush(events, (later, seq, "deliver", alert))


@settings(max_examples=40, deadline=None)
@given(
    spec=st.sampled_from(SPECS),
    gaps=st.lists(st.floats(min_value=0, max_value=900), min_size=1, max_size=60),
    failures=st.lists(st.booleans(), max_size=30),
)
def test_every_alert_is_sent_once_or_counted_once_in_a_digest(spec, gaps, failures):
    clock = FrozenClock(T0)
    script = {"ops": [FAIL if f else SendResult(ok=True) for f in failures]}
    notifier = RecordingNotifier(script)
    deps = make_deps(spec=spec, clock=clock, notifier=notifier, max_attempts=100)
    at, alerts = 0.0, []
    for n, gap in enumerate(gaps):
        at += gap
        alerts.append((at, make_alert(n)))
    run(deps, clock, alerts)
    seen: Counter[str] = Counter()
    for _, content, _ in notifier.sent:
        if isinstance(content, Digest):
            assert content.total == sum(e.count for e in content.entries)
            seen.update({e.alert.item.id: e.count for e in content.entries})
        else:
            seen[content.item.id] += 1
    assert seen == Counter(a.item.id for _, a in alerts)
