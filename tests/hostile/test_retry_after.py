"""Hostile ``Retry-After`` values from a real Slack-like server, and what delivery does with them.

``100000`` parked an alert for 27.8 h; ``1e12`` raised OverflowError mid-delivery, so the alert
was resent at once and wrongly flagged ``possible_duplicate``.
"""

from __future__ import annotations

import pytest

from alerts.clock import FrozenClock
from alerts.delivery import deliver
from alerts.notify.base import SendResult
from alerts.notify.fake import RecordingNotifier
from alerts.notify.render import Renderer
from alerts.notify.transport import parse_retry_after
from tests.delivery.helpers import T0, make_alert, make_deps
from tests.notify.conftest import NOW
from tests.notify.conftest import make_alert as make_notify_alert
from tests.notify.test_slack import _senders
from tests.support.slack import SlackReply, SlackTestServer

CAP = 600.0  # delivery.retry_after_cap's default

HEADERS = {
    # header value: what the sender reports (None: ignored, our own backoff applies)
    "2": 2.0,
    "100000": 100000.0,  # bounded later, by delivery
    "1e12": None,  # not delta-seconds, not a date
    "-5": 0.0,
    "inf": None,
    "NaN": None,
    "9" * 400: 7 * 86400.0,  # finite
    "Wed, 25 Nov 2026 09:31:00 GMT": 60.0,  # an HTTP-date one minute after NOW
    "Fri, 31 Dec 9999 23:59:59 GMT": 7 * 86400.0,
    "Sun, 99 Foo 99999 99:99:99 GMT": None,
    "soon": None,
}


@pytest.fixture(scope="module")
def slack() -> SlackTestServer:  # type: ignore[misc]
    with SlackTestServer() as server:
        yield server


@pytest.mark.parametrize("header", sorted(HEADERS))
def test_every_retry_after_form_is_read_defensively(slack: SlackTestServer, header: str) -> None:
    slack.reset()
    slack.script(SlackReply(429, "rate_limited", (("Retry-After", header),)))
    (sender,) = _senders(slack)
    result = sender.send(Renderer().render("slack", make_notify_alert()))
    assert (result.ok, result.retryable) == (False, True)
    assert result.retry_after == HEADERS[header]
    assert parse_retry_after(header, NOW) == HEADERS[header]


@pytest.mark.parametrize("wait", [100000.0, 1e12, float("inf")])
def test_a_huge_retry_after_waits_at_most_its_cap_and_is_no_duplicate(
    wait: float,
) -> None:
    clock = FrozenClock(T0)
    slow = SendResult(ok=False, retryable=True, retry_after=wait, error="429")
    notifier = RecordingNotifier({"ops": [slow]})
    deps = make_deps(notifier=notifier, clock=clock)
    first = deliver(make_alert(), "ops", deps=deps)
    assert first.status == "retry"
    assert first.retry_after is not None and first.retry_after <= CAP
    clock.advance(seconds=first.retry_after)
    second = deliver(make_alert(), "ops", deps=deps)
    assert second.status == "sent"
    assert "possible duplicate" not in second.detail
    assert notifier.attempts["ops"] == 2 and len(notifier.sent) == 1


def test_the_retry_after_cap_is_a_setting() -> None:
    slow = SendResult(ok=False, retryable=True, retry_after=100000.0, error="429")
    deps = make_deps(notifier=RecordingNotifier({"ops": [slow]}), retry_after_cap=30.0)
    outcome = deliver(make_alert(), "ops", deps=deps)
    assert outcome.status == "retry" and outcome.retry_after == 30.0
