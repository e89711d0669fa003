"""The consumer's pop script (workers/redis_pop.py) on a real Redis, through kombu's own API:
a message taken is recorded as unacked in the same step, in kombu's format (its restore brings
it back), acks held for the next pop are never lost, and BRPOP takes over on an empty queue."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue
from redis.connection import AbstractConnection

from alerts.redis_pack import HiredisPacker
from workers import redis_transport
from workers.redis_pop import POP_SHA
from workers.redis_transport import Channel

EXCHANGE = Exchange("pop-test", type="direct")


@pytest.fixture(scope="module")
def redis_url(own_redis_url: str) -> str:
    """This file's tests reach the whole server (SCRIPT FLUSH): a server of its own."""
    return own_redis_url


def publish(conn: Connection, *bodies: dict[str, Any]) -> None:
    producer = Producer(conn.channel(), exchange=EXCHANGE, routing_key="k")
    for body in bodies:
        producer.publish(body, declare=[Queue("pop-q", EXCHANGE, "k")])


def take(conn: Connection, consumer: Consumer, got: list[Any], n: int = 1) -> None:
    """Drain until ``got`` holds ``n`` more messages."""
    want = len(got) + n
    while len(got) < want:
        conn.drain_events(timeout=5)


def consumer(conn: Connection, got: list[Any], *, no_ack: bool = False) -> Consumer:
    queue = Queue("pop-q", EXCHANGE, "k")
    c = Consumer(conn.default_channel, [queue], no_ack=no_ack, prefetch_count=10)
    c.register_callback(lambda body, message: got.append(message))
    c.consume()
    return c


def unacked(client: redis.Redis) -> set[str]:
    return {k.decode() for k in client.hkeys("unacked")}


def brpops(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The BRPOP commands the channel sends from now on."""
    sent: list[Any] = []
    real = AbstractConnection.send_command

    def send_command(conn: Any, *args: Any, **kwargs: Any) -> None:
        if args[0] == "BRPOP":
            sent.append(args)
        real(conn, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_command", send_command)
    return sent


def test_a_taken_message_is_recorded_by_the_script_as_kombu_would(
    conn: Connection, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = brpops(monkeypatch)
    publish(conn, {"n": 1})
    got: list[Any] = []
    consumer(conn, got)
    take(conn, consumer, got)
    message = got[0]
    assert message.payload == {"n": 1}
    assert unacked(redis_client) == {message.delivery_tag}
    assert redis_client.zscore("unacked_index", message.delivery_tag) is not None
    raw, exchange, routing_key = json.loads(redis_client.hget("unacked", message.delivery_tag))
    assert (raw, exchange, routing_key) == (message._raw, "pop-test", "k")
    assert sent == []  # the script took it
    message.ack()  # in the callback's wake: held for the next pop, or sent before the loop waits
    with pytest.raises(socket.timeout):
        conn.drain_events(timeout=0.3)
    assert unacked(redis_client) == set()
    assert redis_client.zcard("unacked_index") == 0


def test_a_held_ack_rides_the_next_pop(conn: Connection, redis_client: redis.Redis) -> None:
    publish(conn, {"n": 1})
    got: list[Any] = []
    consumer(conn, got)
    take(conn, consumer, got)
    channel = conn.default_channel
    assert isinstance(channel, Channel)
    got[0].ack()
    assert channel._acks == [got[0].delivery_tag]  # held: a pop is due in this loop
    assert unacked(redis_client) == {got[0].delivery_tag}
    publish(conn, {"n": 2})
    take(conn, consumer, got)
    assert channel._acks == []
    assert unacked(redis_client) == {got[1].delivery_tag}  # the first acked by the pop


def test_a_message_recorded_by_the_script_is_restored(
    conn: Connection, redis_client: redis.Redis
) -> None:
    """A worker that dies holding it: kombu's restore puts the recorded message back."""
    publish(conn, {"n": 7})
    got: list[Any] = []
    consumer(conn, got)
    take(conn, consumer, got)
    conn.default_channel.qos.restore_by_tag(got[0].delivery_tag)
    assert unacked(redis_client) == set()
    assert redis_client.llen("pop-q") == 1
    again = json.loads(redis_client.lindex("pop-q", 0))
    assert again["properties"]["delivery_tag"] == got[0].delivery_tag
    assert again["headers"]["redelivered"] is True


@pytest.mark.parametrize(
    ("backlog_seconds", "second_by"),
    [(1e9, "script"), (0.0, "BRPOP")],
    ids=["answered-at-once", "waited-for"],
)
def test_an_empty_queue_blocks_in_brpop_and_a_backlog_brings_the_script_back(
    conn: Connection,
    redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
    backlog_seconds: float,
    second_by: str,
) -> None:
    """After BRPOP, the script again only if BRPOP found the message waiting (a backlog): on
    a queue that runs empty a script would mostly find nothing, a round trip for nothing."""
    monkeypatch.setattr(redis_transport, "BACKLOG_SECONDS", backlog_seconds)
    sent = brpops(monkeypatch)
    got: list[Any] = []
    consumer(conn, got)
    with pytest.raises(socket.timeout):
        conn.drain_events(timeout=0.3)  # the script found nothing; BRPOP waits
    assert [args[0] for args in sent] == ["BRPOP"]
    publish(conn, {"n": 1}, {"n": 2})
    take(conn, consumer, got)  # BRPOP's, recorded by kombu's own pipeline
    take(conn, consumer, got)
    assert len(sent) == (2 if second_by == "BRPOP" else 1)
    assert [m.payload["n"] for m in got] == [1, 2]
    assert unacked(redis_client) == {m.delivery_tag for m in got}
    for message in got:
        message.ack()
    with pytest.raises(socket.timeout):
        conn.drain_events(timeout=0.3)
    assert unacked(redis_client) == set()


def test_a_queue_read_without_acks_is_never_recorded(
    conn: Connection, redis_client: redis.Redis
) -> None:
    """Celery's control replies: nothing would ever ack them."""
    publish(conn, {"n": 1})
    got: list[Any] = []
    consumer(conn, got, no_ack=True)
    take(conn, consumer, got)
    assert got[0].payload == {"n": 1}
    assert unacked(redis_client) == set()


def test_the_script_is_sent_again_after_redis_forgot_it(
    conn: Connection, redis_client: redis.Redis
) -> None:
    publish(conn, {"n": 1})
    got: list[Any] = []
    consumer(conn, got)
    take(conn, consumer, got)
    got[0].ack()
    redis_client.script_flush()
    assert redis_client.script_exists(POP_SHA) == [False]
    publish(conn, {"n": 2})
    take(conn, consumer, got)  # NOSCRIPT, then the script's text
    assert got[1].payload == {"n": 2}
    assert unacked(redis_client) == {got[1].delivery_tag}  # the held ack went with it


def test_the_channels_connections_pack_with_hiredis(conn: Connection) -> None:
    """kombu's BRPOP and our pop script, records and acks are packed by ``redis_pack``."""
    channel = conn.default_channel
    assert isinstance(channel, Channel)
    assert isinstance(
        channel.client.connection_pool.connection_kwargs["command_packer"], HiredisPacker
    )
    wire = channel.client.connection_pool.get_connection()
    try:
        assert isinstance(wire._command_packer, HiredisPacker)
    finally:
        channel.client.connection_pool.release(wire)
