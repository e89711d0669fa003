"""Builders shared by the delivery tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.clock import FrozenClock
from alerts.delivery import DeliveryDeps, NotifySpec, memory_store
from alerts.delivery.settings import DeliverySettings
from alerts.models import Alert, Hit, Item
from alerts.notify.fake import RecordingNotifier
from alerts.settings import Settings

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 14:00 in Kyiv
CANARY = "CANARYs3cr3tT0ken42"


def make_alert(
    n: int = 1, *, watch: str = "kaluga", title: str | None = None, channels=("ops",)
) -> Alert:
    """An alert on item ``item-n`` with a distinct headline unless ``title`` is given."""
    item = Item(
        id=f"item-{n}",
        source="test",
        title=title or " ".join(f"h{n}w{k}" for k in range(8)),
        body=" ".join(f"b{n}w{k}" for k in range(12)),
    )
    hit = Hit(term="kaluga", field="title", start=0, end=8, text=item.title[:8])
    return Alert(watch=watch, watch_name=watch.title(), item=item, hits=(hit,), channels=channels)


def make_settings(**delivery: object) -> Settings:
    """Settings with two channels whose URLs hold the canary secret."""
    return Settings(
        channels={
            "ops": [f"mailto://user:{CANARY}@127.0.0.1:2525?to=ops@example.org"],
            "slack": [f"json://127.0.0.1:9/hooks/{CANARY}"],
        },
        delivery=DeliverySettings.model_validate(delivery),
    )


def make_deps(
    *,
    notifier: RecordingNotifier | None = None,
    spec: NotifySpec | None = None,
    clock: FrozenClock | None = None,
    store=None,
    **delivery: object,
) -> DeliveryDeps:
    """Deps over memory (or ``store``) with one spec for every watch and a seeded RNG."""
    import random

    delivery.setdefault("pace_rate", 1000.0)
    delivery.setdefault("pace_burst", 1000)
    return DeliveryDeps(
        store=store or memory_store(),
        notifier=notifier or RecordingNotifier(),
        clock=clock or FrozenClock(T0),
        conf=DeliverySettings.model_validate(delivery),
        secret_urls=make_settings().all_channel_urls(),
        policies=lambda watch: spec,
        rng=random.Random(7),
    )


def run_worker(deps, clock: FrozenClock, jobs, *, until=None, max_steps: int = 100_000):
    """A one-worker Celery stand-in under a frozen clock.

    ``jobs`` are (due, alert, channel); a ``retry`` outcome re-queues the job ``retry_after``
    later, like ``self.retry(countdown=...)``. Returns every (time, outcome).
    """
    import heapq

    from alerts.delivery import deliver

    queue = [(due, i, alert, channel) for i, (due, alert, channel) in enumerate(jobs)]
    heapq.heapify(queue)
    seq = len(queue)
    log = []
    for _ in range(max_steps):
        if not queue or (until is not None and queue[0][0] > until):
            return log
        due, _, alert, channel = heapq.heappop(queue)
        clock.now = max(clock.now, due)
        out = deliver(alert, channel, deps=deps)
        log.append((clock.now, out))
        if out.status == "retry":
            seq += 1
            heapq.heappush(
                queue, (clock.now + timedelta(seconds=out.retry_after or 0), seq, alert, channel)
            )
    raise AssertionError("worker did not drain")
