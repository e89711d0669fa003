"""A Celery task message queued on a redis-py pipeline: the API's publish rides its intake write.

``send_task`` cost the API about a third of its CPU per POST and a second Redis round trip: the
route lookup, a producer from the pool, kombu's retry wrapper, a ``saferepr`` of the arguments,
an ``AsyncResult``. When the broker is the very Redis the intake is written to, the message can
travel in the intake's own pipeline instead (one round trip; the intake's ``WAIT`` covers the
message too). It is still Celery's message: Celery builds it (``amqp.create_task_message``,
protocol 2), kombu serializes it, and ``envelope`` adds what kombu's Redis channel adds on a
publish to the default exchange (base64 body, delivery info and tag) before its ``LPUSH``.
``tests/workers/test_publish.py`` holds this twin to what ``send_task`` itself queues.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from celery import Celery
from kombu.serialization import dumps

from alerts.settings import Settings
from workers.broker import broker_url, is_amqp


class RedisTaskQueue:
    """Queues one task's messages with ``LPUSH`` on the caller's pipeline, as kombu would."""

    def __init__(self, app: Celery, task: str, queue: str) -> None:
        self.app = app
        self.task = task
        self.key = queue  # priority 0: kombu's list for the queue is its name
        self.serializer = app.conf.task_serializer

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

    def push(self, pipe: Any, args: list[Any], kwargs: dict[str, Any], kwargsrepr: str) -> str:
        """Queue the task message on ``pipe``; its task id. ``kwargsrepr``: for the logs (a
        ``saferepr`` of the items, Celery's default, cost more than the rest of the message)."""
        task_id = str(uuid.uuid4())
        headers, properties, body, _ = self.app.amqp.create_task_message(
            task_id,
            self.task,
            args,
            kwargs,
            reply_to=self.app.thread_oid,
            ignore_result=None,
            argsrepr=repr(args),
            kwargsrepr=kwargsrepr,
        )
        content_type, encoding, data = dumps(body, serializer=self.serializer)
        message = envelope(data, content_type, encoding, headers, properties, self.key)
        pipe.lpush(self.key, json.dumps(message))
        return task_id


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
