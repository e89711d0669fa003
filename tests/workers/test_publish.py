"""The API's task message, queued on its intake pipeline, is the one ``send_task`` queues."""

from __future__ import annotations

import asyncio
import base64
import importlib
import json
import random
import uuid
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from redis.connection import AbstractConnection

from alerts.api.app import INLINE_BODY_BYTES
from alerts.settings import Settings
from tests.support.processes import write_config
from workers.publish import UNESCAPED, RedisTaskQueue, Template, uuid4_hex, uuid4_text

TASK = "alerts.ingest_bulletin"
ARGS = ["api", "", "application/json"]
KWARGS = {"bulletin_id": "b1", "items": [{"id": "i1", "title": "Ähnlich"}], "fmt": "json"}


@pytest.fixture
def create_app(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """``workers.app.create_app`` (the module builds an app on import: it needs a Redis URL)."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    return importlib.import_module("workers.app").create_app


def popped(client: redis.Redis) -> dict[str, Any]:
    """The message kombu's Redis transport would hand a worker next (it pops the right end)."""
    raw = client.rpop("alerts")
    assert isinstance(raw, bytes)
    message: dict[str, Any] = json.loads(raw)
    return message


def without_ids(message: dict[str, Any]) -> dict[str, Any]:
    """The message with its task id and delivery tag (fresh on every publish) blanked."""
    headers = {**message["headers"], "id": "-", "root_id": "-"}
    props = {**message["properties"], "correlation_id": "-", "delivery_tag": "-"}
    return {**message, "headers": headers, "properties": props}


@pytest.mark.parametrize("plain", [False, True])
def test_a_pushed_message_is_the_one_send_task_queues(
    redis_url, redis_client, create_app, plain: bool
) -> None:
    """``plain`` (the API's pushes): pydantic-core writes the body, compact: the same JSON
    value as ``send_task``'s body in other bytes; every other field the same."""
    settings = Settings(redis_url=redis_url)
    app = create_app(settings)
    queue = RedisTaskQueue.for_settings(app, settings, TASK)
    assert queue is not None
    app.send_task(TASK, args=ARGS, kwargs=KWARGS, kwargsrepr="<shown>")
    theirs = popped(redis_client)
    # send_task also copies its kwargsrepr option into the properties; workers read the header.
    assert theirs["properties"].pop("kwargsrepr") == theirs["headers"]["kwargsrepr"]
    with redis_client.pipeline(transaction=False) as pipe:
        task_id = queue.push(pipe, ARGS, KWARGS, "<shown>", plain=plain)
        pipe.execute()
    ours = popped(redis_client)
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == task_id
    assert ours["properties"]["correlation_id"] == task_id
    args, kwargs, _ = json.loads(base64.b64decode(ours["body"]))
    assert (args, kwargs) == (ARGS, KWARGS)
    if plain:
        body, their_body = (base64.b64decode(m.pop("body")) for m in (ours, theirs))
        assert json.loads(body) == json.loads(their_body)
        compact = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
        assert body == compact.encode()
    assert without_ids(ours) == without_ids(theirs)


def test_a_plain_push_of_a_lone_surrogate_is_written_by_json(redis_url, redis_client, create_app):
    """No UTF-8 for it: ``json.dumps`` writes its escape, as kombu's serializer would."""
    settings = Settings(redis_url=redis_url)
    queue = RedisTaskQueue.for_settings(create_app(settings), settings, TASK)
    assert queue is not None
    kwargs = {"bulletin_id": "b1", "items": [{"id": "i1", "title": "half \ud800"}]}
    with redis_client.pipeline(transaction=False) as pipe:
        queue.push(pipe, ARGS, kwargs, "<s>", plain=True)
        pipe.execute()
    body = base64.b64decode(popped(redis_client)["body"])
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    assert body == json.dumps((ARGS, kwargs, embed)).encode()


def test_each_pushed_message_carries_its_own_fields(redis_url, redis_client, create_app) -> None:
    """The message is built once per thread: what changes per message is filled in each push."""
    import threading

    settings = Settings(redis_url=redis_url)
    app = create_app(settings)
    queue = RedisTaskQueue.for_settings(app, settings, TASK)
    assert queue is not None
    pushes = [(ARGS, KWARGS, "<one>"), (["web", 'a "quoted" \\ body', "text/xml"], {}, "<två>")]
    ids = []
    for args, kwargs, shown in pushes:
        with redis_client.pipeline(transaction=False) as pipe:
            ids.append(queue.push(pipe, args, kwargs, shown))
            pipe.execute()
    messages = [popped(redis_client), popped(redis_client)]
    tags = set()
    for (args, kwargs, shown), task_id, message in zip(pushes, ids, messages, strict=True):
        headers, props = message["headers"], message["properties"]
        assert headers["id"] == headers["root_id"] == props["correlation_id"] == task_id
        assert (headers["argsrepr"], headers["kwargsrepr"]) == (repr(args), shown)
        assert json.loads(base64.b64decode(message["body"]))[:2] == [args, kwargs]
        assert props["reply_to"] == app.thread_oid
        tags.add(props["delivery_tag"])
    assert len(set(ids)) == len(tags) == 2
    # Another thread: its own reply_to, as send_task from that thread would give.
    seen: list[str] = []

    def push_from_thread() -> None:
        with redis_client.pipeline(transaction=False) as pipe:
            queue.push(pipe, ARGS, KWARGS, "<t>")
            pipe.execute()
        seen.append(app.thread_oid)

    thread = threading.Thread(target=push_from_thread)
    thread.start()
    thread.join()
    other = popped(redis_client)["properties"]["reply_to"]
    assert other == seen[0] != app.thread_oid


def test_a_body_plain_json_cannot_hold_is_serialized_by_kombu(redis_url, redis_client, create_app):
    from datetime import UTC, datetime

    from kombu.serialization import dumps

    settings = Settings(redis_url=redis_url)
    queue = RedisTaskQueue.for_settings(create_app(settings), settings, TASK)
    assert queue is not None
    kwargs = {"at": datetime(2026, 12, 5, tzinfo=UTC)}
    with redis_client.pipeline(transaction=False) as pipe:
        queue.push(pipe, ARGS, kwargs, "<d>")
        pipe.execute()
    body = base64.b64decode(popped(redis_client)["body"])
    embed = {"callbacks": None, "errbacks": None, "chain": None, "chord": None}
    assert body == dumps((ARGS, kwargs, embed), serializer="json")[2].encode()


def test_the_apis_plain_body_decodes_as_kombus_own(redis_url, redis_client, create_app) -> None:
    """pydantic-core writes a datetime, UUID, Decimal or bytes as a string where kombu's JSON
    wraps it (the worker would get a str for a datetime): ``plain`` is for JSON values only.
    The API's arguments are those of ``ingest_message`` (items dumped in JSON mode): an item
    with a ``published`` date and no content type decode at the worker as kombu's own would."""
    from datetime import UTC, datetime

    from kombu.serialization import dumps, loads

    from alerts.ingest.items import make_item
    from workers.publish import task_body

    settings = Settings(redis_url=redis_url)
    queue = RedisTaskQueue.for_settings(create_app(settings), settings, TASK)
    assert queue is not None
    ingest_message = importlib.import_module("workers.api").ingest_message
    published = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
    items = [make_item("api", title="Port reopens", guid="w-1", published=published)]
    m = ingest_message("api", b'{"items": []}', None, items, "json")
    with redis_client.pipeline(transaction=False) as pipe:
        queue.push(pipe, m.args, m.kwargs, m.shown, plain=True)
        pipe.execute()
    message = popped(redis_client)
    plain = base64.b64decode(message["body"])
    content_type, encoding, default = dumps(task_body(m.args, m.kwargs), serializer="json")
    assert (message["content-type"], message["content-encoding"]) == (content_type, encoding)
    ours, kombus = (loads(body, content_type, encoding) for body in (plain, default))
    assert ours == kombus
    assert ours[0] == ["api", "", None] and ours[1]["items"][0]["published"].startswith("2026")


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:6390/0", "amqp://guest:guest@127.0.0.1:5672//"]
)
def test_another_broker_gets_no_pushed_messages(redis_url, broker, create_app) -> None:
    """Only the Redis of the intake can take the message in the intake's round trip."""
    settings = Settings(redis_url=redis_url, broker_url=broker)
    assert RedisTaskQueue.for_settings(create_app(settings), settings, TASK) is None


def test_a_prioritised_task_gets_no_pushed_messages(redis_url, create_app) -> None:
    """kombu keeps a priority's messages in a list of their own: ``send_task`` knows which."""
    settings = Settings(redis_url=redis_url)
    app = create_app(settings)
    app.conf.task_default_priority = 5
    assert RedisTaskQueue.for_settings(app, settings, TASK) is None


@pytest.mark.parametrize(
    ("padding", "path"),
    [
        (0, "async"),  # a small body: parsed and written from the event loop
        (INLINE_BODY_BYTES, "sync"),  # a big one: parsed and written in a worker thread
    ],
)
def test_a_post_to_the_api_is_one_round_trip_with_its_task_message(
    redis_url, redis_client, monkeypatch: pytest.MonkeyPatch, tmp_path, padding: int, path: str
) -> None:
    """``workers.api``: the new-item count, the intake write and the task message together."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    monkeypatch.setenv("ALERTS_CONFIG", str(write_config(tmp_path, api_token="t0ken")))
    module = importlib.import_module("workers.api")
    # Process-wide start-up steps that are not this test's: the root logger and a frozen heap.
    monkeypatch.setattr(module, "configure_logging", lambda setup: None)
    monkeypatch.setattr(module, "freeze_heap", lambda: None)
    warmed: list[bool] = []
    monkeypatch.setattr(module.language, "warm_up", lambda: warmed.append(True))
    api = module.create_api()
    assert warmed == [True]  # the language model loads at start, not on the first POST
    sends: list[str] = []
    original = AbstractConnection.send_packed_command

    # The asyncio client's writes, whether through redis-py's send_packed_command (writelines)
    # or OneTrip's own write on the connection's stream.
    original_write, original_writelines = (
        asyncio.StreamWriter.write,
        asyncio.StreamWriter.writelines,
    )

    def counting(self: AbstractConnection, command: Any, check_health: bool = True) -> None:
        sends.append("sync")
        original(self, command, check_health)

    def counting_write(self: asyncio.StreamWriter, data: Any) -> None:
        sends.append("async")
        original_write(self, data)

    def counting_writelines(self: asyncio.StreamWriter, data: Any) -> None:
        sends.append("async")
        original_writelines(self, data)

    item = {"id": "i1", "title": "Drones over Kaluga", "body": "x" * padding}
    body = json.dumps({"items": [item]})
    headers = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}
    with TestClient(api) as client:
        # The same size: the same path's client gets connected.
        warm = json.dumps({"items": [{"id": "i0", "title": "Talks resume", "body": item["body"]}]})
        assert client.post("/v1/bulletins", content=warm, headers=headers).status_code == 202
        popped(redis_client)  # connected: from here on, only the POST's own commands
        with monkeypatch.context() as patch:
            patch.setattr(AbstractConnection, "send_packed_command", counting)
            patch.setattr(asyncio.StreamWriter, "write", counting_write)
            patch.setattr(asyncio.StreamWriter, "writelines", counting_writelines)
            resp = client.post("/v1/bulletins?source=desk", content=body, headers=headers)
    assert resp.status_code == 202, resp.text
    assert (resp.json()["new"], sends) == (1, [path])
    message = popped(redis_client)
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == ["desk", "", "application/json"]
    assert [i["id"] for i in kwargs["items"]] == resp.json()["items"]
    assert redis_client.hexists("alerts:ingest:intake", kwargs["bulletin_id"])
    assert message["headers"]["kwargsrepr"].startswith(
        f"{{'bulletin_id': '{kwargs['bulletin_id']}'"
    )


def test_the_ids_are_uuid4s_as_uuid_writes_them() -> None:
    texts = {uuid4_text() for _ in range(200)}
    hexes = {uuid4_hex() for _ in range(200)}
    assert len(texts) == len(hexes) == 200
    for text in texts:
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4
        assert uuid.UUID(text).variant == uuid.RFC_4122
    for h in hexes:
        assert uuid.UUID(h).hex == h and uuid.UUID(h).version == 4


def test_unescaped_markers_are_written_as_json_writes_them() -> None:
    """The values ``fill`` places between quotes unscanned (ids, the base64 body) are the text
    ``json.dumps`` writes for them: the message is the same as with every value encoded."""
    template = Template(['{"a":', "id", ',"b":', "body", ',"c":', "delivery_tag", "}"], "utf-8")
    assert {"id", "body", "delivery_tag"} == UNESCAPED
    rng = random.Random(13)
    for n in range(300):
        raw = rng.randbytes(n)
        values = {
            "id": uuid4_text(),
            "body": base64.b64encode(raw).decode("ascii"),
            "delivery_tag": uuid4_text(),
        }
        whole = {"a": values["id"], "b": values["body"], "c": values["delivery_tag"]}
        assert template.fill(values) == json.dumps(whole, separators=(",", ":"))


@pytest.mark.parametrize("plain_json", [True, False])
def test_items_pushed_as_models_are_written_as_their_json_mode_dumps(
    redis_url, redis_client, create_app, monkeypatch: pytest.MonkeyPatch, plain_json: bool
) -> None:
    """The API pushes its ``Item``s themselves (``Message.plain_kwargs``): the body is the
    very bytes pushed with the items dumped in JSON mode (``Message.kwargs``), by
    pydantic-core's writer and by the ``json.dumps`` fallback (``plain_json`` giving up)."""
    from datetime import UTC, datetime

    from alerts.ingest.items import make_item

    settings = Settings(redis_url=redis_url)
    queue = RedisTaskQueue.for_settings(create_app(settings), settings, TASK)
    assert queue is not None
    if not plain_json:
        monkeypatch.setattr(queue, "plain_json", lambda body, encoding: None)
    message = importlib.import_module("workers.api").ingest_message
    published = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
    items = [
        make_item("api", title="Port reopens", guid="w-1", published=published),
        make_item("api", title='Київ: «порт» "закрито"', body="Штормове\tпопередження"),
    ]
    m = message("api", b'{"items": []}', "application/json", items, "json")
    assert m.plain_kwargs["items"] == items
    bodies = []
    for kwargs in (m.kwargs, m.plain_kwargs):
        with redis_client.pipeline(transaction=False) as pipe:
            queue.push(pipe, m.args, kwargs, m.shown, plain=True)
            pipe.execute()
        bodies.append(base64.b64decode(popped(redis_client)["body"]))
    assert bodies[0] == bodies[1]
    assert json.loads(bodies[1])[1]["items"] == [i.model_dump(mode="json") for i in items]


def test_a_forked_child_never_hands_out_its_parent_s_random_bytes() -> None:
    """Ids come from ``os.urandom`` drawn for many at a time: a forked child draws its own,
    so it never names a bulletin or task as its parent does next."""
    import multiprocessing

    uuid4_hex()  # the parent holds drawn bytes now
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        theirs = pool.apply(uuid4_hex)
    ours = [uuid4_hex() for _ in range(3)]
    assert theirs not in ours


@pytest.mark.parametrize(
    ("error", "stored"),
    [
        (redis.ConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused."), False),
        (redis.TimeoutError("Timeout on the intake's round trip to Redis"), "unknown"),
    ],
)
def test_the_event_loop_s_write_answers_503_with_what_is_known(
    redis_url, monkeypatch: pytest.MonkeyPatch, tmp_path, error: Exception, stored: object
) -> None:
    """A Redis error in ``AsyncSubmit``'s write is ``intake_outcome``'s 503: not stored when
    no connection was made, else unknown."""
    monkeypatch.setenv("ALERTS_REDIS_URL", redis_url)
    monkeypatch.setenv("ALERTS_CONFIG", str(write_config(tmp_path, api_token="t0ken")))
    module = importlib.import_module("workers.api")
    monkeypatch.setattr(module, "configure_logging", lambda setup: None)
    monkeypatch.setattr(module, "freeze_heap", lambda: None)
    monkeypatch.setattr(module.language, "warm_up", lambda: None)

    async def failing(self: Any, messages: Any) -> list[int]:
        raise error

    monkeypatch.setattr(module.AsyncSubmit, "write", failing)
    headers = {"Authorization": "Bearer t0ken", "Content-Type": "application/json"}
    with TestClient(module.create_api()) as client:
        resp = client.post("/v1/bulletins", content='{"items": [{"title": "T"}]}', headers=headers)
    assert resp.status_code == 503, resp.text
    assert resp.json()["stored"] == stored
