"""End to end: the sample bulletin goes in the API, one email and two Slack posts come out."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.workers.conftest import Stack


def wait_until(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it is true (AssertionError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def settle(stack: Stack) -> None:
    """Wait until the queue is empty and stays so for a moment."""
    wait_until(stack.queue_drained)
    time.sleep(2)
    wait_until(stack.queue_drained)


def test_sample_bulletin_alerts_once_by_email_and_slack(
    stack: Stack, sample_bulletin: Path
) -> None:
    data = sample_bulletin.read_bytes()
    resp = httpx.post(
        f"{stack.api}/v1/bulletins?source=sample", content=data, headers=stack.headers(), timeout=10
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 3
    assert resp.json()["new"] == 3

    mails = stack.smtp.wait_for(1, timeout=60)
    posts = stack.slack.wait_for(2, timeout=60)
    settle(stack)
    assert len(stack.smtp.messages) == 1
    assert len(stack.slack.requests) == 2
    mail = mails[0].message
    assert "Ukraine drones hit hidden drone manufacturing site inside Russia" in mail["Subject"]
    assert mails[0].rcpt_tos == ("desk@example.org",)
    slack_text = " ".join(str(p.payload) for p in posts)
    assert "coalition of the willing" in slack_text
    assert "special envoy arrives in Moscow" in slack_text

    again = httpx.post(
        f"{stack.api}/v1/bulletins?source=sample", content=data, headers=stack.headers(), timeout=10
    )
    assert again.status_code == 202
    assert (again.json()["accepted"], again.json()["new"]) == (3, 0)  # nothing new the 2nd time
    settle(stack)
    assert len(stack.smtp.messages) == 1
    assert len(stack.slack.requests) == 2


def test_healthz_sees_redis_the_worker_and_the_rules_before_any_bulletin(stack: Stack) -> None:
    # A busy worker may miss one broadcast ping: health is judged over a few probes.
    deadline = time.monotonic() + 30
    url = f"{stack.api}/healthz"  # the details need the token
    while (report := httpx.get(url, headers=stack.headers(), timeout=10)).status_code != 200 or (
        report.json()["rules"] is None  # the worker loads the rules when it starts
    ):
        assert time.monotonic() < deadline, report.text
        time.sleep(1)
    assert report.json()["redis"] is True
    assert report.json()["workers"] >= 1
    assert report.json()["rules"]["version"] and report.json()["rules"]["watches"] > 0


def test_a_bulletin_whose_task_message_was_lost_is_ingested_from_the_intake(
    tmp_path: Path, redis_url: str, redis_client, sample_bulletin: Path
) -> None:
    """Kombu can lose a message popped by a worker killed before it recorded it (chaos found
    it): the API's intake entry is all that is left, and the reconciler queues it again."""
    import base64
    from datetime import UTC, datetime

    from alerts.ingest.intake import Accepted, RedisIntake
    from tests.workers.conftest import running_stack

    with running_stack(
        tmp_path, redis_url, redis_client, beat=True, worker={"reconcile_tick": 1}
    ) as stack:
        data = base64.b64encode(sample_bulletin.read_bytes()).decode()
        # What the API wrote before its task message vanished: an intake entry, no task.
        RedisIntake(redis_client).add(Accepted("lost-1", "sample", data, None), datetime.now(UTC))
        stack.smtp.wait_for(1, timeout=60)
        stack.slack.wait_for(2, timeout=60)
        settle(stack)
        assert len(stack.smtp.messages) == 1 and len(stack.slack.requests) == 2
        assert redis_client.hlen("alerts:ingest:intake") == 0
