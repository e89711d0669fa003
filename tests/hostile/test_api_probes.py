"""What outside probes of the API found: each must be a clear answer, never a 500 or a leak."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts.api import app as app_module
from alerts.api.app import create_app
from alerts.api.outage import Unavailable
from alerts.ingest.signing import sign
from alerts.settings import load_settings
from tests.api.test_webhook_signing import MemoryGuard

TOKEN = "hostile-token-not-a-secret"
SECRET = b"webhook-key"
HEALTH = {"redis": True, "workers": 1, "rules": {"last_error": "rules/x.yaml:1:1: CANARY"}}


class Queue:
    """Records submits; ``fail`` makes the next ones raise ``Unavailable``."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail: Unavailable | None = None

    def __call__(self, **kwargs: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.calls.append(kwargs)


@pytest.fixture
def queue() -> Queue:
    return Queue()


def _client(queue: Queue, **settings: Any) -> TestClient:
    conf = load_settings(
        api_token=TOKEN,
        sources=[{"id": "newsroom", "kind": "webhook", "secret": SECRET.decode()}],
        **settings,
    )
    app = create_app(conf, submit=queue, health=lambda: HEALTH, replay_guard=MemoryGuard())
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(queue: Queue) -> Iterator[TestClient]:
    with _client(queue, max_bulletin_items=100) as c:
        yield c


def auth(**extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", **extra}


def pushed(n: int) -> bytes:
    return json.dumps({"items": [{"title": f"Drones over Kaluga {i}"} for i in range(n)]}).encode()


def test_a_json_integer_of_5000_digits_is_a_400(client: TestClient, queue: Queue) -> None:
    body = b'{"items": [{"title": "x", "id": ' + b"7" * 5000 + b"}]}"
    resp = client.post("/v1/bulletins", content=body, headers=auth())
    assert resp.status_code == 400, resp.text
    assert "invalid JSON" in resp.json()["detail"] and "4300 digits" in resp.json()["detail"]
    assert queue.calls == []


def test_more_items_than_the_cap_is_a_413(client: TestClient, queue: Queue) -> None:
    resp = client.post("/v1/bulletins", content=pushed(101), headers=auth())
    assert resp.status_code == 413
    assert "101 items, over max_bulletin_items (100)" in resp.json()["detail"]
    assert queue.calls == []
    assert client.post("/v1/bulletins", content=pushed(100), headers=auth()).status_code == 202


def test_parsing_runs_off_the_event_loop(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsing, answered = threading.Event(), threading.Event()
    real = app_module.parse_bulletin_as
    waited: list[bool] = []

    def slow_parse(*args: Any, **kwargs: Any) -> Any:
        parsing.set()
        # On the event loop, /healthz could not answer meanwhile: this would time out.
        waited.append(answered.wait(20))
        return real(*args, **kwargs)

    monkeypatch.setattr(app_module, "parse_bulletin_as", slow_parse)
    result: dict[str, int] = {}
    post = threading.Thread(
        target=lambda: result.update(
            code=client.post("/v1/bulletins", content=pushed(1), headers=auth()).status_code
        )
    )
    post.start()
    assert parsing.wait(30)
    assert client.get("/healthz").status_code == 200
    answered.set()
    post.join(60)
    assert result == {"code": 202}
    assert waited == [True]


def test_public_healthz_is_status_only(client: TestClient) -> None:
    public = client.get("/healthz")
    assert public.json() == {"status": "ok"}
    assert "CANARY" not in public.text
    detailed = client.get("/healthz", headers=auth())
    assert detailed.json() == HEALTH


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
def test_api_docs_are_off_unless_enabled(queue: Queue, path: str) -> None:
    with _client(queue) as c:
        assert c.get(path).status_code == 404
    with _client(queue, api_docs=True) as c:
        assert c.get(path).status_code == 200


def test_a_signed_replay_with_a_new_request_id_is_a_duplicate(
    client: TestClient, queue: Queue
) -> None:
    body = pushed(1)
    ts = str(int(time.time()))
    headers = {"X-Alerts-Timestamp": ts, "X-Alerts-Signature": sign(SECRET, ts, body)}
    first = client.post("/v1/bulletins?source=newsroom", content=body, headers=headers)
    assert first.status_code == 202
    replay = client.post(
        "/v1/bulletins?source=newsroom", content=body, headers={**headers, "X-Alerts-Id": "new-1"}
    )
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert len(queue.calls) == 1


@pytest.mark.parametrize("stored", [False, "unknown"])
def test_store_outage_is_a_503_and_a_retry_is_accepted(
    client: TestClient, queue: Queue, stored: Any
) -> None:
    queue.fail = Unavailable("Redis unavailable (TimeoutError)", stored=stored)
    headers = auth(**{"X-Alerts-Id": "push-7"})
    resp = client.post("/v1/bulletins", content=pushed(1), headers=headers)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"].isdigit()
    assert resp.json()["stored"] == stored
    assert "retry" in resp.json()["detail"]
    queue.fail = None  # the id was not remembered: the retry is stored, not a "duplicate"
    again = client.post("/v1/bulletins", content=pushed(1), headers=headers)
    assert again.status_code == 202
    assert client.post("/v1/bulletins", content=pushed(1), headers=headers).status_code == 200
