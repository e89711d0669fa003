"""deliver() through the real notifier, a real SMTP server and a Slack-like HTTP server."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator

import pytest

from alerts.clock import FrozenClock, system_clock
from alerts.delivery import DeliveryDeps, deliver, flush_due_digests, list_deliveries, redis_store
from alerts.delivery.ledger import row_id
from alerts.delivery.settings import DeliverySettings
from alerts.notify.settings import NotifySettings
from alerts.settings import Settings
from tests.delivery.helpers import CANARY, T0, make_alert
from tests.support.slack import SlackReply, SlackTestServer
from tests.support.smtp import SmtpTestServer
from tests.support.wiring import notifier_from


@pytest.fixture
def smtp() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[SlackTestServer]:
    with SlackTestServer() as server:
        yield server


def real_deps(redis_client, smtp, slack, clock) -> DeliveryDeps:
    """Deps over Redis and the real Apprise notifier; the canary hides in both URLs."""
    settings = Settings(
        channels={
            "email": [smtp.apprise_url(user="alerts", password=CANARY)],
            "slack": [f"slack://T1111/B2222/{CANARY}"],
        },
        notify=NotifySettings(slack_webhook_base=slack.webhook_base),
        delivery=DeliverySettings(backoff_base=0.5, backoff_cap=2.0),
    )
    return DeliveryDeps(
        store=redis_store(redis_client, settings.delivery),
        notifier=notifier_from(settings, clock=clock),
        clock=clock,
        conf=settings.delivery,
        secret_urls=settings.all_channel_urls(),
        rng=random.Random(3),
    )


def drive(deps, alert, channel, clock: FrozenClock, limit: int = 20):
    """Celery's part under a frozen clock: on retry, move time by retry_after and run again."""
    outs = []
    for _ in range(limit):
        outs.append(deliver(alert, channel, deps=deps))
        if outs[-1].status != "retry":
            return outs
        clock.advance(seconds=outs[-1].retry_after or 0)
    raise AssertionError(outs)


ALERT = make_alert(channels=("email", "slack"))


def test_smtp_451_then_250_gives_exactly_one_email(redis_client, smtp, slack):
    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)
    smtp.script("rcpt", "451 4.3.0 try again later")
    outs = [o for o in drive(deps, ALERT, "email", clock) if o.detail != "paced"]
    assert [o.status for o in outs] == ["retry", "sent"]
    assert deliver(ALERT, "email", deps=deps).status == "duplicate"
    assert len(smtp.wait_for(1)) == 1
    time.sleep(0.2)  # a stray second mail would have arrived by now
    assert len(smtp.messages) == 1


def test_smtp_554_is_dead_after_one_attempt(redis_client, smtp, slack):
    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)
    smtp.always("data", "554 5.7.1 rejected")
    assert deliver(ALERT, "email", deps=deps).status == "dead"
    [row] = list_deliveries(deps.store, status="dead")
    assert row.attempts == 1 and row.last_error
    assert smtp.messages == []


def test_slack_429_retry_after_2_no_request_before_2s_then_one_message(redis_client, smtp, slack):
    deps = real_deps(redis_client, smtp, slack, system_clock)
    slack.script(SlackReply.rate_limited(2))
    first = deliver(ALERT, "slack", deps=deps)
    assert first.status == "retry" and first.retry_after >= 2.0
    # A duplicate task (a reconciler pass, a redelivery) arriving early must not post.
    assert deliver(ALERT, "slack", deps=deps).status == "retry"
    assert len(slack.requests) == 1
    time.sleep(first.retry_after)  # what self.retry(countdown=retry_after) does
    assert deliver(ALERT, "slack", deps=deps).status == "sent"
    reqs = slack.wait_for(2)
    assert len(reqs) == 2
    assert reqs[1].received_at - reqs[0].received_at >= 2.0


def test_email_ok_and_slack_failing_3_times_gives_one_of_each(redis_client, smtp, slack):
    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)
    slack.script(SlackReply.server_error(), SlackReply.server_error(), SlackReply.server_error())
    assert [o.status for o in drive(deps, ALERT, "email", clock)] == ["sent"]
    statuses = [o.status for o in drive(deps, ALERT, "slack", clock) if o.detail != "paced"]
    assert statuses == ["retry", "retry", "retry", "sent"]
    assert len(smtp.wait_for(1)) == 1
    assert len(slack.wait_for(4)) == 4  # three 500s, then the one message
    assert sorted(r.status for r in list_deliveries(deps.store)) == ["sent", "sent"]


def test_slack_invalid_payload_is_dead_after_one_attempt(redis_client, smtp, slack):
    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)
    slack.always(SlackReply.invalid_payload())
    assert deliver(ALERT, "slack", deps=deps).status == "dead"
    assert len(slack.requests) == 1


def test_canary_secret_never_in_ledger_outcomes_or_logs(redis_client, smtp, slack, caplog):
    caplog.set_level(logging.DEBUG)
    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)
    smtp.always("data", "554 5.7.1 rejected")
    slack.always(SlackReply.channel_not_found())
    outs = [deliver(ALERT, ch, deps=deps) for ch in ("email", "slack")]
    assert [o.status for o in outs] == ["dead", "dead"]
    rows = [r.model_dump_json() for r in list_deliveries(deps.store)]
    keys = [k.decode() for k in redis_client.keys("*")]
    values = [redis_client.get(k) for k in keys if redis_client.type(k) == b"string"]
    for text in [*rows, *(o.detail for o in outs), caplog.text, *keys, *map(repr, values)]:
        assert CANARY not in text


def test_a_followup_email_is_threaded_under_the_first(redis_client, smtp, slack):
    from alerts.models import Item

    clock = FrozenClock(T0)
    deps = real_deps(redis_client, smtp, slack, clock)

    def story(n: int, title: str, source: str):
        item = Item(id=f"item-{n}", source=source, title=title, body="The governor said so.")
        return ALERT.model_copy(update={"item": item})

    first = story(1, "Drone attack on oil depot in Kaluga region, governor says", "bbc")
    again = story(2, "Drone attack hits oil depot in Kaluga region, governor says", "tass")
    assert deliver(first, "email", deps=deps).status == "sent"
    clock.advance(seconds=5)
    assert deliver(again, "email", deps=deps).status == "sent"
    one, two = smtp.wait_for(2)
    assert two.message["In-Reply-To"] == one.message["Message-ID"]


def test_slack_followups_thread_with_a_bot_token_and_wait_for_the_digest_on_a_webhook(
    redis_client, smtp, slack
):
    from alerts.models import Item

    clock = FrozenClock(T0)
    settings = Settings(
        channels={
            "bot": [f"slack://xoxb-1234-5678-{CANARY}/#news"],
            "hook": ["slack://T1111/B2222/C3333"],
        },
        notify=NotifySettings(
            slack_webhook_base=slack.webhook_base,
            slack_api_base=f"http://{slack.host}:{slack.port}/api",
        ),
    )
    deps = DeliveryDeps(
        store=redis_store(redis_client),
        notifier=notifier_from(settings, clock=clock),
        clock=clock,
        conf=settings.delivery,
        secret_urls=settings.all_channel_urls(),
    )

    def story(n: int, title: str, channels: tuple[str, ...]):
        item = Item(id=f"item-{n}", source=f"s{n}", title=title, body="The governor said so.")
        return ALERT.model_copy(update={"item": item, "channels": channels})

    titles = [
        "Drone attack on oil depot in Kaluga region, governor says",
        "Drone attack hits oil depot in Kaluga region, governor says",
    ]
    both = ("bot", "hook")
    for n, title in enumerate(titles, 1):
        outs = []
        for channel in both:
            outs.append(deliver(story(n, title, both), channel, deps=deps).status)
            clock.advance(seconds=1)
        assert outs == (["sent", "sent"] if n == 1 else ["sent", "digested"])
    posts = slack.wait_for(3)
    api = [p for p in posts if p.path.endswith("chat.postMessage")]
    first_row = deps.store.ledger.get(row_id(story(1, titles[0], both).delivery_key("bot")))
    assert first_row is not None and first_row.thread_ref
    assert "thread_ts" not in api[0].payload
    assert api[1].payload["thread_ts"] == first_row.thread_ref
    assert len(posts) == 3  # the webhook's follow-up waits for the digest
    clock.advance(hours=1)
    assert [o.status for o in flush_due_digests(deps)] == ["sent"]
    assert len(slack.wait_for(4)) == 4
