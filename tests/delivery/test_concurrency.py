"""Two workers on one delivery at the same time, over a real Redis: one message."""

from __future__ import annotations

import threading

from alerts.clock import FrozenClock
from alerts.delivery import deliver, list_deliveries, redis_store
from alerts.notify.base import SendResult
from tests.delivery.helpers import T0, make_alert, make_deps


class GatedNotifier:
    """Blocks inside send() until released, so a second worker can try meanwhile."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.sends = 0

    def send(self, channel, content, *, reply_to=None):
        self.sends += 1
        self.entered.set()
        assert self.release.wait(10)
        return SendResult(ok=True)


def test_a_second_worker_never_sends_while_the_first_holds_the_claim(redis_client):
    notifier = GatedNotifier()
    clock = FrozenClock(T0)
    deps = make_deps(notifier=notifier, clock=clock, store=redis_store(redis_client))
    other = make_deps(notifier=notifier, clock=clock, store=redis_store(redis_client))
    alert = make_alert()
    results = {}
    first = threading.Thread(target=lambda: results.update(a=deliver(alert, "ops", deps=deps)))
    first.start()
    assert notifier.entered.wait(10)
    meanwhile = deliver(alert, "ops", deps=other)  # the same task, redelivered elsewhere
    assert meanwhile.status == "retry" and meanwhile.detail == "another worker is sending"
    notifier.release.set()
    first.join(10)
    assert results["a"].status == "sent"
    assert deliver(alert, "ops", deps=other).status == "duplicate"
    assert notifier.sends == 1
    [row] = list_deliveries(deps.store)
    assert (row.status, row.attempts, row.possible_duplicate) == ("sent", 1, False)
