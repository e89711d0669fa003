"""Signed webhooks: HMAC-SHA256 over timestamp + body, a 5-minute window, replays answered once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from alerts.api.app import create_app
from alerts.clock import FrozenClock
from alerts.ingest.signing import sign
from alerts.settings import load_settings
from tests.api.test_api import BULLETIN, TOKEN, Queue

SECRET = b"webhook-key"
NOW = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)


class MemoryGuard:
    """The replay guard in a set."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def seen(self, request_id: str) -> bool:
        return request_id in self.ids

    def remember(self, request_id: str) -> None:
        self.ids.add(request_id)


@pytest.fixture
def queue() -> Queue:
    return Queue()


@pytest.fixture
def client(queue: Queue) -> Iterator[TestClient]:
    settings = load_settings(
        api_token=TOKEN,
        sources=[{"id": "newsroom", "kind": "webhook", "secret": SECRET.decode()}],
    )
    app = create_app(
        settings, submit=queue, health=dict, replay_guard=MemoryGuard(), clock=FrozenClock(NOW)
    )
    with TestClient(app) as c:
        yield c


def signed(body: bytes, *, at: datetime = NOW, key: bytes = SECRET) -> dict[str, str]:
    ts = str(int(at.timestamp()))
    return {"X-Alerts-Timestamp": ts, "X-Alerts-Signature": sign(key, ts, body)}


def post(client: TestClient, headers: dict[str, str], source: str = "newsroom"):  # type: ignore[no-untyped-def]
    return client.post(f"/v1/bulletins?source={source}", content=BULLETIN, headers=headers)


def test_a_signed_post_needs_no_bearer_token(client: TestClient, queue: Queue) -> None:
    resp = post(client, signed(BULLETIN))
    assert resp.status_code == 202, resp.text
    assert len(queue.calls) == 1


@pytest.mark.parametrize(
    "headers",
    [
        signed(BULLETIN, key=b"wrong-key"),  # another key
        signed(b"other body"),  # signature of another body
        signed(BULLETIN, at=datetime(2026, 3, 12, 9, 54, tzinfo=UTC)),  # 6 minutes old
        signed(BULLETIN, at=datetime(2026, 3, 12, 10, 6, tzinfo=UTC)),  # from the future
        {"X-Alerts-Timestamp": "1773309600", "X-Alerts-Signature": "md5=abc"},  # bad scheme
    ],
)
def test_bad_signatures_are_401(client: TestClient, queue: Queue, headers: dict) -> None:
    resp = post(client, {**headers, "Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 401
    assert "bad signature" in resp.json()["detail"]
    assert queue.calls == []


def test_a_replayed_signature_is_a_duplicate_and_enqueues_nothing(
    client: TestClient, queue: Queue
) -> None:
    headers = signed(BULLETIN)
    assert post(client, headers).status_code == 202
    again = post(client, headers)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert len(queue.calls) == 1


def test_a_repeated_request_id_is_a_duplicate(client: TestClient, queue: Queue) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Alerts-Id": "push-42"}
    assert post(client, headers, source="desk").status_code == 202
    assert post(client, headers, source="desk").json()["status"] == "duplicate"
    assert len(queue.calls) == 1


def test_unsigned_post_to_a_signed_source_still_needs_the_token(
    client: TestClient, queue: Queue
) -> None:
    assert post(client, {}).status_code == 401
    assert post(client, {"Authorization": f"Bearer {TOKEN}"}).status_code == 202
