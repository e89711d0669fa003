"""A Celery task message queued on a redis-py pipeline: the API's publish rides its intake write.

``send_task`` cost the API about a third of its CPU per POST and a second Redis round trip: the
route lookup, a producer from the pool, kombu's retry wrapper, a ``saferepr`` of the arguments,
an ``AsyncResult``. When the broker is the very Redis the intake is written to, the message can
travel in the intake's own pipeline instead (one round trip; the intake's ``WAIT`` covers the
message too). It is still Celery's message: Celery builds it (``amqp.create_task_message``,
protocol 2), kombu serializes it, and ``envelope`` adds what kombu's Redis channel adds on a
publish to the default exchange (base64 body, delivery info and tag) before its ``LPUSH``.
``tests/workers/test_publish.py`` holds this twin to what ``send_task`` itself queues.

Building it cost the API about 40 µs per POST, most of it on fields that never change for a
queue. So Celery builds the message once per process and thread (``origin`` names the process,
``reply_to`` the thread), with markers in the fields that change per message, and each push
splices its own values (JSON-encoded) into that text: the same bytes as ``json.dumps`` of the
whole, since a string encodes alike alone and inside a document. The API's own bodies (plain
JSON: strings, lists, dicts, None) are written by pydantic-core's serializer (``plain_json``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pydantic_core
from celery import Celery
from kombu.serialization import dumps

from alerts.jsontext import json_string
from alerts.settings import Settings
from workers.broker import broker_url, is_amqp


class RedisTaskQueue:
    """Queues one task's messages with ``LPUSH`` on the caller's pipeline, as kombu would."""

    def __init__(self, app: Celery, task: str, queue: str) -> None:
        self.app = app
        self.task = task
        self.key = queue  # priority 0: kombu's list for the queue is its name
        self.serializer = app.conf.task_serializer
        self.templates: dict[tuple[str, int], Template] = {}  # by (reply_to, pid)

    @classmethod
    def for_settings(cls, app: Celery, settings: Settings, task: str) -> RedisTaskQueue | None:
        """The queue when the broker is the Redis of our stores (same URL) and the task goes
        to a plain queue (direct exchange, no priority), else None (``send_task`` then)."""
        if is_amqp(settings) or broker_url(settings) != settings.redis_url:
            return None
        queue = app.amqp.router.route({}, task)["queue"]
        if queue.exchange.type != "direct" or app.conf.task_default_priority is not None:
            return None
        return cls(app, task, queue.name)

    def push(
        self,
        pipe: Any,
        args: list[Any],
        kwargs: dict[str, Any],
        kwargsrepr: str,
        *,
        plain: bool = False,
    ) -> str:
        """Queue the task message on ``pipe``; its task id. ``kwargsrepr``: for the logs (a
        ``saferepr`` of the items, Celery's default, cost more than the rest of the message).
        ``plain``: the caller vouches the arguments are JSON values only (``plain_json``), or
        pydantic models, which stand for their JSON-mode dumps (``model_dump(mode="json")``)."""
        reply_to = self.app.thread_oid
        key = (reply_to, _PID[0])
        template = self.templates.get(key)
        if template is None:
            template = self.templates[key] = self.template(reply_to)
        task_id = uuid4_text()
        body = task_body(args, kwargs)
        raw = (plain and self.plain_json(body, template.encoding)) or self.serialized(
            pydantic_core.to_jsonable_python(body) if plain else body, template.encoding
        )
        values = {
            "id": task_id,
            "argsrepr": repr(args),
            "kwargsrepr": kwargsrepr,
            "body": base64.b64encode(raw).decode("ascii"),
            "delivery_tag": uuid4_text(),
        }
        pipe.lpush(self.key, template.fill(values))
        return task_id

    def plain_json(self, body: tuple[Any, ...], encoding: str) -> bytes | None:
        """The body as compact JSON text by pydantic-core's serializer (a third of what
        ``json.dumps`` costs on an item's text, whose escape scan goes a character at a time),
        for a body of JSON values only: strings, ints, bools, None, lists and dicts with
        string keys, and pydantic models (written by their own serializer: the text of their
        JSON-mode dump, without building the dump). The same JSON value as ``serialized``'s,
        in other bytes: the worker's kombu decodes either. None when the serializer is not
        JSON, or the text is no UTF-8 (a lone surrogate).

        Not checked here: pydantic-core writes a datetime, UUID, Decimal or bytes as a string
        where kombu's encoder wraps it (the task would get a str for a datetime), and a strict
        JSON-value serializer that refuses them cost six times this write. Its callers, in
        ``workers.api``, pass ``ingest_message``'s arguments (strings, None, and ``Item``s),
        or several with their bulletins' source and content type: JSON values once the items
        are dumped (``tests/workers/test_publish.py`` decodes an item with a date as kombu's
        own)."""
        if self.serializer != "json" or encoding != "utf-8":
            return None
        try:
            return pydantic_core.to_json(body)
        except pydantic_core.PydanticSerializationError:
            return None  # json.dumps writes a lone surrogate as its escape

    def serialized(self, body: tuple[Any, ...], encoding: str) -> bytes:
        """The body as kombu serializes it. Its JSON encoder differs from ``json.dumps`` only
        on what plain JSON cannot hold (it wraps those), so plain JSON goes straight through
        ``json.dumps`` (half the cost: no registry, no encoder built per call)."""
        if self.serializer == "json":
            try:
                return json.dumps(body).encode(encoding)
            except TypeError:
                pass
        _, _, data = dumps(body, serializer=self.serializer)
        return data.encode(encoding) if isinstance(data, str) else data

    def template(self, reply_to: str) -> Template:
        """The message as Celery builds it, with a marker in each field ``push`` fills."""
        headers, properties, _, _ = self.app.amqp.create_task_message(
            marker("id"),
            self.task,
            [],
            {},
            reply_to=reply_to,
            ignore_result=None,
            argsrepr=marker("argsrepr"),
            kwargsrepr=marker("kwargsrepr"),
        )
        content_type, encoding, _ = dumps(task_body([], {}), serializer=self.serializer)
        message = envelope(b"", content_type, encoding, headers, properties, self.key)
        message["body"] = marker("body")
        message["properties"]["delivery_tag"] = marker("delivery_tag")
        return Template(re.split(MARKED, json.dumps(message)), encoding)


MARKED = r'"@@push:(\w+)@@"'  # a marker as json.dumps writes it: the split keeps its name


class _RandomBytes:
    """``os.urandom``'s bytes, drawn for ``IDS`` ids at a time: a POST names its bulletin, its
    task message and that message's delivery tag, each a system call (``getrandom``) of its
    own before. The bytes are the kernel's all the same, each handed out once: a list
    iterator's ``next`` is one step under the GIL (the API's executor threads name bulletins
    too; two threads that find it empty at once each draw their own); a forked child draws
    its own."""

    IDS = 64

    def __init__(self) -> None:
        self.chunks: Iterator[bytes] = iter(())

    def take(self) -> bytes:
        """16 bytes never handed out before."""
        chunk = next(self.chunks, None)
        if chunk is None:
            pool = os.urandom(16 * self.IDS)
            self.chunks = iter([pool[at : at + 16] for at in range(16, len(pool), 16)])
            chunk = pool[:16]
        return chunk

    def forget(self) -> None:
        """Drop the drawn bytes (in a forked child: its parent hands them out too)."""
        self.chunks = iter(())


_RANDOM = _RandomBytes()
_PID = [os.getpid()]  # this process's id, kept (``os.getpid`` is a system call each time)


def _forked() -> None:
    _RANDOM.forget()
    _PID[0] = os.getpid()


os.register_at_fork(after_in_child=_forked)


def uuid4_hex() -> str:
    """``uuid.uuid4().hex``'s twin (random, version 4) without building a ``UUID``: the
    API names a bulletin and its task message this way per POST (3.7 µs each as ``UUID``)."""
    raw = bytearray(_RANDOM.take())
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


def uuid4_text() -> str:
    """``str(uuid.uuid4())``'s twin (see ``uuid4_hex``)."""
    h = uuid4_hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def marker(name: str) -> str:
    return f"@@push:{name}@@"


def task_body(args: list[Any], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """Protocol 2's body, as ``create_task_message`` makes it with no callbacks or chain."""
    return (args, kwargs, {"callbacks": None, "errbacks": None, "chain": None, "chord": None})


class Template:
    """A message's JSON text split around its markers: text, name, text, name, ..., text."""

    def __init__(self, parts: list[str], encoding: str) -> None:
        self.parts = parts
        self.encoding = encoding

    def fill(self, values: dict[str, str]) -> str:
        """The message with each marker's value JSON-encoded (``json_string``), but those of
        ``UNESCAPED``, placed between quotes as they are."""
        parts = self.parts[:]
        for i in range(1, len(parts), 2):
            name = parts[i]
            parts[i] = f'"{values[name]}"' if name in UNESCAPED else json_string(values[name])
        return "".join(parts)


# The markers ``push`` fills with text json writes as it is: the task and delivery ids (hex
# digits and '-') and the base64 body ([A-Za-z0-9+/=]). Their escape scan was most of a fill.
UNESCAPED = frozenset({"id", "body", "delivery_tag"})


def envelope(
    data: bytes | str,
    content_type: str,
    encoding: str,
    headers: dict[str, Any],
    properties: dict[str, Any],
    queue: str,
) -> dict[str, Any]:
    """The message as kombu's Redis channel stores it after a publish to the default exchange."""
    raw = data.encode(encoding) if isinstance(data, str) else data
    return {
        "body": base64.b64encode(raw).decode("ascii"),
        "content-encoding": encoding,
        "content-type": content_type,
        "headers": headers,
        "properties": {
            **properties,
            "delivery_mode": 2,  # persistent, kombu's default
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
