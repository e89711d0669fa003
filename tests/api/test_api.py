"""The HTTP API with an injected queue: auth, parsing, size caps and health."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from alerts.api.app import create_app
from alerts.ingest import parse_bulletin
from alerts.settings import load_settings

TOKEN = "s3cret-token"
BULLETIN = (
    b"Talks resume in Geneva on a ceasefire. Drones reported over the Kaluga region.\n"
    b"Talks resume in Geneva on a ceasefire\n"
    b"Delegations met again on Tuesday to discuss a ceasefire.\n"
    b"Drones reported over the Kaluga region\n"
    b"Officials in the Kaluga region said two drones were shot down.\n"
)


class Queue:
    """Records what the API submits instead of sending it to Celery."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def queue() -> Queue:
    return Queue()


@pytest.fixture
def client(queue: Queue) -> Iterator[TestClient]:
    settings = load_settings(api_token=TOKEN, max_body_bytes=4096)
    health = {"redis": True, "workers": 1, "rules": {"version": "abc"}}
    app = create_app(settings, submit=queue, health=lambda: health)
    with TestClient(app) as c:
        yield c


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}


def test_accepts_a_text_bulletin_and_returns_item_ids(client: TestClient, queue: Queue) -> None:
    resp = client.post("/v1/bulletins?source=desk", content=BULLETIN, headers=auth())
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 2
    assert len(resp.json()["items"]) == 2
    [call] = queue.calls
    # The raw bulletin (the intake keeps it) and its items, parsed once, here.
    assert call["source"] == "desk" and call["data"] == BULLETIN
    assert call["content_type"] == "text/plain" and call["fmt"] == "text"
    assert call["items"] == parse_bulletin(BULLETIN, source="desk", content_type="text/plain")
    assert [i.id for i in call["items"]] == resp.json()["items"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_refuses_missing_or_wrong_tokens(client: TestClient, queue: Queue, headers: dict) -> None:
    resp = client.post("/v1/bulletins", content=BULLETIN, headers=headers)
    assert resp.status_code == 401
    assert queue.calls == []


def test_unreadable_bulletin_is_400_with_a_reason(client: TestClient, queue: Queue) -> None:
    resp = client.post("/v1/bulletins", content=b"   \n  ", headers=auth())
    assert resp.status_code == 400
    assert "unreadable bulletin" in resp.json()["detail"]
    assert queue.calls == []


def test_declared_oversized_body_is_413(client: TestClient, queue: Queue) -> None:
    resp = client.post("/v1/bulletins", content=b"x" * 5000, headers=auth())
    assert resp.status_code == 413
    assert queue.calls == []


def test_streamed_oversized_body_is_413_without_content_length(
    client: TestClient, queue: Queue
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    resp = client.post("/v1/bulletins", content=chunks(), headers=auth())
    assert resp.status_code == 413
    assert queue.calls == []


def test_bad_source_name_is_400(client: TestClient) -> None:
    resp = client.post("/v1/bulletins?source=../../etc", content=BULLETIN, headers=auth())
    assert resp.status_code == 400


@pytest.mark.parametrize(
    ("query", "source"),
    [
        ("?source=desk", "desk"),  # the usual query: read as it is
        ("", "api"),
        ("?source=desk.wire_2-b", "desk.wire_2-b"),
        ("?source=desk%2Ebeta", "desk.beta"),  # escaped: parsed
        ("?source=other&source=desk", "desk"),  # the last one, as QueryParams reads it
        ("?source=desk&token=x", "desk"),
        ("?token=x&source=desk", "desk"),
        ("?source=a+b", None),  # '+' is a space: not a source name
        ("?source=", None),
        ("?source=d%C3%A9sk", None),
    ],
)
def test_the_source_parameter(
    client: TestClient, queue: Queue, query: str, source: str | None
) -> None:
    resp = client.post(f"/v1/bulletins{query}", content=BULLETIN, headers=auth())
    if source is None:
        assert resp.status_code == 400 and "source must be" in resp.json()["detail"]
        assert queue.calls == []
    else:
        assert resp.status_code == 202
        assert [c["source"] for c in queue.calls] == [source]


def test_the_answer_is_compact_json(client: TestClient) -> None:
    resp = client.post("/v1/bulletins?source=desk", content=BULLETIN, headers=auth())
    assert resp.headers["content-type"] == "application/json"
    ids = resp.json()["items"]
    expected = f'{{"status":"accepted","accepted":2,"new":null,"items":["{ids[0]}","{ids[1]}"]}}'
    assert resp.content == expected.encode()


def test_post_without_a_configured_token_is_503(queue: Queue) -> None:
    app = create_app(load_settings(api_token=None), submit=queue, health=dict)
    with TestClient(app) as c:
        resp = c.post("/v1/bulletins", content=BULLETIN, headers=auth())
    assert resp.status_code == 503
    assert queue.calls == []


def test_healthz_reports_and_fails_without_workers(queue: Queue) -> None:
    settings = load_settings(api_token=TOKEN)
    up = create_app(settings, submit=queue, health=lambda: {"redis": True, "workers": 2})
    down = create_app(settings, submit=queue, health=lambda: {"redis": True, "workers": 0})
    with TestClient(up) as c:
        assert c.get("/healthz").status_code == 200
    with TestClient(down) as c:
        resp = c.get("/healthz", headers=auth())  # details need the token
        assert resp.status_code == 503
        assert resp.json()["workers"] == 0


def test_healthz_counts_busy_workers_as_alive(queue: Queue) -> None:
    """Solo workers answer no ping while their tasks run: tasks taken lately say they live."""
    settings = load_settings(api_token=TOKEN)
    busy = create_app(
        settings, submit=queue, health=lambda: {"redis": True, "workers": 0, "busy": 2}
    )
    with TestClient(busy) as c:
        assert c.get("/healthz").status_code == 200


def test_a_bulletin_post_skips_the_middleware_but_answers_as_fastapi_would(queue: Queue) -> None:
    """POST /v1/bulletins is served ahead of the middleware stack and the router (the cost of
    a POST), with FastAPI's error bodies; other requests and methods still go through them."""
    settings = load_settings(api_token=TOKEN, max_body_bytes=4096)
    app = create_app(settings, submit=queue, health=lambda: {"redis": True, "workers": 1})
    passed: list[str] = []

    @app.middleware("http")
    async def record(request: Any, call_next: Any) -> Any:
        passed.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    with TestClient(app) as c:
        assert c.post("/v1/bulletins", content=BULLETIN, headers=auth()).status_code == 202
        refused = c.post("/v1/bulletins", content=BULLETIN, headers=auth("wrong"))
        assert (refused.status_code, refused.json()) == (
            401,
            {"detail": "missing or wrong bearer token"},
        )
        assert c.get("/v1/bulletins").status_code == 405
        assert c.get("/healthz").status_code == 200
    assert passed == ["GET /v1/bulletins", "GET /healthz"]
