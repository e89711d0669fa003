"""The consumer's own Redis commands (workers/redis_wire.py) against kombu's: a record written
from a message's text is the one kombu writes (its restore brings the message back), an ack
drops what kombu's ack drops; one write per round trip, every reply read, errors after."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Producer, Queue
from kombu.transport import redis as kombu_redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers.redis_wire import ack_commands, record_commands, record_value, round_trip

EXCHANGE = Exchange("wire-test", type="direct")
QUEUE = Queue("wire-q", EXCHANGE, "k")


def taken(conn: Connection, client: redis.Redis) -> tuple[Any, bytes]:
    """A message published through kombu, popped by hand: kombu's message and its text."""
    Producer(conn.channel(), exchange=EXCHANGE, routing_key="k").publish(
        {"n": 1, "text": 'quote " and é'}, declare=[QUEUE]
    )
    raw = client.rpop("wire-q")
    assert isinstance(raw, bytes)
    channel = conn.default_channel
    return channel.Message(json.loads(raw), channel=channel), raw


def test_a_record_from_the_text_is_kombus_record(
    conn: Connection, redis_client: redis.Redis
) -> None:
    message, raw = taken(conn, redis_client)
    tag = message.delivery_tag
    kombu_redis.QoS.append(conn.default_channel.qos, message, tag)  # kombu's own record
    kombus = (redis_client.hget("unacked", tag), redis_client.zscore("unacked_index", tag))
    redis_client.delete("unacked", "unacked_index")
    wire = redis_client.connection_pool.get_connection()
    try:
        value = record_value(raw, message)
        assert round_trip(wire, record_commands("unacked_index", "unacked", tag, 17.5, value)) == [
            1,
            1,
        ]
    finally:
        redis_client.connection_pool.release(wire)
    assert kombus[0] is not None and kombus[1] is not None
    ours = redis_client.hget("unacked", tag)
    assert ours is not None and json.loads(ours) == json.loads(kombus[0])
    assert redis_client.zscore("unacked_index", tag) == 17.5
    assert json.loads(record_value(None, message)) == json.loads(kombus[0])
    conn.default_channel.qos.restore_by_tag(tag)  # kombu's restore reads our record
    assert json.loads(redis_client.lindex("wire-q", 0) or b"")["properties"]["delivery_tag"] == tag


def test_an_ack_drops_what_kombus_ack_drops(conn: Connection, redis_client: redis.Redis) -> None:
    message, _ = taken(conn, redis_client)
    tag = message.delivery_tag
    kombu_redis.QoS.append(conn.default_channel.qos, message, tag)
    wire = redis_client.connection_pool.get_connection()
    try:
        assert round_trip(wire, ack_commands("unacked_index", "unacked", tag)) == [1, 1]
    finally:
        redis_client.connection_pool.release(wire)
    assert redis_client.hlen("unacked") == 0
    assert redis_client.zcard("unacked_index") == 0


def test_an_error_reply_is_raised_once_every_reply_is_read(redis_client: redis.Redis) -> None:
    redis_client.set("a-string", "x")
    wire = redis_client.connection_pool.get_connection()
    try:
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            round_trip(wire, [("HSET", "a-string", "f", "v"), ("SET", "after", "1")])
        assert redis_client.get("after") == b"1"  # the command after the error ran
        assert round_trip(wire, [("GET", "after")]) == [b"1"]  # nothing left unread
    finally:
        redis_client.connection_pool.release(wire)


def test_a_dropped_connection_is_retried_by_the_connections_policy(
    redis_client: redis.Redis,
) -> None:
    wire = redis_client.connection_pool.get_connection()
    try:
        wire._sock.close()  # type: ignore[union-attr]  # a broken socket: the write fails
        with pytest.raises(redis.ConnectionError):  # kombu's pools retry nothing
            round_trip(wire, [("SET", "k", "v")])
        wire.connect()
        wire._sock.close()  # type: ignore[union-attr]
        wire.retry = Retry(NoBackoff(), 1)
        assert round_trip(wire, [("SET", "k", "v"), ("GET", "k")]) == [b"OK", b"v"]
    finally:
        redis_client.connection_pool.release(wire)
