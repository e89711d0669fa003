"""The Redis broker's transport options: one list per queue, whatever a message's priority."""

from __future__ import annotations

from typing import Any

import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from alerts.settings import Settings
from workers.broker import PRIORITY_STEPS, broker_conf
from workers.redis_transport import transport_for


def test_a_redis_broker_keeps_one_list_per_queue(redis_url: str) -> None:
    conf = broker_conf(Settings(redis_url=redis_url))
    assert conf["broker_transport_options"]["priority_steps"] == [0]


def test_a_message_with_a_priority_lands_in_the_queue_s_one_list(
    redis_url: str, redis_client: redis.Redis
) -> None:
    options = {"priority_steps": PRIORITY_STEPS}
    queue = Queue("prio-q", Exchange("prio", type="direct"), "k")
    with Connection(redis_url, transport=transport_for(redis_url), transport_options=options) as c:
        producer = Producer(c.channel(), exchange=queue.exchange, routing_key="k")
        producer.publish({"n": 9}, priority=9, declare=[queue])
        assert redis_client.keys("prio-q*") == [b"prio-q"]
        got: list[Any] = []
        consumer = Consumer(c.default_channel, [queue], callbacks=[lambda b, m: got.append(m)])
        consumer.consume()
        c.drain_events(timeout=5)
        assert got[0].payload == {"n": 9}
        got[0].ack()
