"""kombu's Redis consumer in an event loop (kombu's ``Hub``, as in a Celery worker): what BRPOP
takes is recorded as unacked before the loop next waits, in one round trip with the acks of the
same iteration; nothing acked or requeued is ever left behind; and the transport's hook hands
the loop a socket only when the loop lacks its reader (``poll_start_hook``)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue
from kombu.asynchronous import Hub
from kombu.transport import redis as kombu_redis

from workers import redis_transport
from workers.redis_transport import Channel

EXCHANGE = Exchange("loop-test", type="direct")
QUEUE = Queue("loop-q", EXCHANGE, "k")


@pytest.fixture
def hub(conn: Connection, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    """The connection polled by an event loop; the queue starts empty, so BRPOP takes."""
    monkeypatch.setattr(redis_transport, "BACKLOG_SECONDS", 0.0)  # BRPOP stays in charge
    loop = Hub()
    conn.transport.register_with_event_loop(conn.connection, loop)
    yield loop
    loop.close()


def publish(conn: Connection, *bodies: dict[str, Any]) -> None:
    producer = Producer(conn.channel(), exchange=EXCHANGE, routing_key="k")
    for body in bodies:
        producer.publish(body, declare=[QUEUE])


def run_until(hub: Hub, done: Callable[[], bool], ticks: int = 200) -> None:
    loop = hub.create_loop()
    for _ in range(ticks):
        if done():
            return
        next(loop)
    raise AssertionError("the loop never got there")


def consume(conn: Connection, got: list[Any]) -> Channel:
    c = Consumer(conn.default_channel, [QUEUE], prefetch_count=10)
    c.register_callback(lambda body, message: got.append(message))
    c.consume()
    channel = conn.default_channel
    assert isinstance(channel, Channel)
    return channel


def unacked(client: redis.Redis) -> set[str]:
    return {k.decode() for k in client.hkeys("unacked")}


def pipelines(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The commands of every round trip of held records and acks from now on."""
    sent: list[list[str]] = []
    real = redis_transport.round_trip

    def round_trip(conn: Any, commands: Any) -> Any:
        sent.append([str(c[0]) for c in commands])
        return real(conn, commands)

    monkeypatch.setattr(redis_transport, "round_trip", round_trip)
    return sent


def test_a_record_and_an_ack_of_one_iteration_share_one_round_trip(
    conn: Connection, hub: Hub, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    got: list[Any] = []
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")  # the script found nothing
    publish(conn, {"n": 1})
    run_until(hub, lambda: len(got) == 1)
    assert channel._records  # taken, recorded before the loop waits again
    run_until(hub, lambda: not channel._records)
    assert unacked(redis_client) == {got[0].delivery_tag}
    sent = pipelines(monkeypatch)
    publish(conn, {"n": 2})
    run_until(hub, lambda: len(got) == 2)
    got[0].ack()
    run_until(hub, lambda: not channel._records and not channel._acks)
    assert sent == [["ZADD", "HSET", "ZREM", "HDEL"]]  # one round trip for both
    assert unacked(redis_client) == {got[1].delivery_tag}
    assert redis_client.zrange("unacked_index", 0, -1) == [got[1].delivery_tag.encode()]


def test_an_ack_before_the_record_went_out_leaves_nothing_behind(
    conn: Connection, hub: Hub, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    got: list[Any] = []
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")
    publish(conn, {"n": 1})
    run_until(hub, lambda: len(got) == 1)
    sent = pipelines(monkeypatch)
    got[0].ack()  # its record still held: neither is sent
    channel.flush_acks()
    assert sent == []
    assert unacked(redis_client) == set()
    assert redis_client.zcard("unacked_index") == 0


def test_a_requeue_writes_the_held_record_first(
    conn: Connection, hub: Hub, redis_client: redis.Redis
) -> None:
    """A pool child lost with its task (reject_on_worker_lost): kombu's requeue restores the
    message from its unacked record, which must be in Redis by then."""
    got: list[Any] = []
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")
    publish(conn, {"n": 1})
    run_until(hub, lambda: len(got) == 1)
    assert channel._records
    got[0].reject(requeue=True)
    assert unacked(redis_client) == set()
    assert redis_client.llen("loop-q") == 1


def test_without_an_event_loop_the_record_goes_at_once(
    conn: Connection, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """drain_events: nothing runs before a wait but the next drain, which may never come."""
    monkeypatch.setattr(redis_transport, "BACKLOG_SECONDS", 0.0)
    got: list[Any] = []
    channel = consume(conn, got)
    with pytest.raises(socket.timeout):
        conn.drain_events(timeout=0.3)
    publish(conn, {"n": 1})
    conn.drain_events(timeout=5)
    assert not channel._records
    assert unacked(redis_client) == {got[0].delivery_tag}


def test_the_loop_is_handed_a_socket_only_when_it_lacks_its_reader(
    conn: Connection, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    got: list[Any] = []
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")
    added: list[int] = []
    real = hub.add_reader

    def add_reader(fd: int, *args: Any) -> Any:
        added.append(fd)
        return real(fd, *args)

    monkeypatch.setattr(hub, "add_reader", add_reader)
    for _ in range(3):
        next(hub.create_loop())
    assert added == []
    fd = next(iter(conn.transport.cycle.fds))
    hub.remove(fd)  # as kombu does for a socket that dropped
    next(hub.create_loop())
    assert added == [fd]


def acked_while_brpop_awaits(conn: Connection, hub: Hub, got: list[Any]) -> Channel:
    """A message BRPOP took, recorded, then acked while BRPOP awaits the next: the ack held, the
    timer it armed in the loop's timers."""
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")
    publish(conn, {"n": 1})
    run_until(hub, lambda: len(got) == 1)
    run_until(hub, lambda: not channel._records and channel._in_poll is not None)
    got[0].ack()
    armed = conn.transport.cycle._armed
    assert armed is not None
    assert any(scheduled.entry is armed for scheduled in hub.timer._queue)
    return channel


def test_an_ack_alone_waits_for_the_next_record_or_the_timer(
    conn: Connection, hub: Hub, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While BRPOP awaits a message, an ack made alone rides the next record (one round trip
    for both), or goes with a timer armed by the ack (``ACK_HOLD_SECONDS``); no timer while
    nothing is held."""
    poller = conn.transport.cycle
    assert poller._armed is None
    got: list[Any] = []
    channel = acked_while_brpop_awaits(conn, hub, got)
    poller.disarm()  # the timer's part below, when the test says
    sent = pipelines(monkeypatch)
    conn.transport.cycle.on_poll_start()  # the loop is about to wait
    assert channel._acks == [got[0].delivery_tag]  # held: BRPOP awaits the next message
    assert sent == []
    publish(conn, {"n": 2})
    run_until(hub, lambda: len(got) == 2 and not channel._records)
    assert sent == [["ZADD", "HSET", "ZREM", "HDEL"]]
    assert unacked(redis_client) == {got[1].delivery_tag}
    got[1].ack()
    conn.transport.cycle.on_poll_start()
    assert channel._acks == [got[1].delivery_tag]
    assert poller._armed is not None
    poller._armed.fun()  # the timer fires
    assert sent[1:] == [["ZREM", "HDEL"]]
    assert unacked(redis_client) == set()
    assert poller._armed is None


def test_the_timer_goes_once_a_record_takes_the_acks_that_armed_it(
    conn: Connection, hub: Hub, redis_client: redis.Redis
) -> None:
    """Left armed, the timer would wake the loop for nothing, or send the next message's ack
    alone before that message's record could take it."""
    poller = conn.transport.cycle
    got: list[Any] = []
    channel = acked_while_brpop_awaits(conn, hub, got)
    armed = poller._armed
    publish(conn, {"n": 2})
    run_until(hub, lambda: len(got) == 2 and not channel._records)
    assert not channel._acks  # taken by the record's write
    assert poller._armed is None
    assert all(scheduled.entry is not armed for scheduled in hub.timer._queue)
    assert unacked(redis_client) == {got[1].delivery_tag}


def test_the_consumed_queues_are_kept_until_the_consumers_change(conn: Connection) -> None:
    """The poller asks every channel for them on every loop iteration: built once per change."""
    channel = conn.default_channel
    first = Consumer(channel, [QUEUE])
    first.consume()
    assert channel.active_queues == ["loop-q"]
    assert channel.active_queues is channel.active_queues  # kept, not built again
    second = Consumer(channel, [Queue("loop-q2", EXCHANGE, "k2")])
    second.consume()
    assert channel.active_queues == ["loop-q", "loop-q2"]
    first.cancel()
    assert channel.active_queues == ["loop-q2"]
    assert channel.active_queues == kombu_redis.Channel.active_queues.fget(channel)  # kombu's


def test_the_clients_are_cached_where_kombu_looks_for_them(conn: Connection, hub: Hub) -> None:
    """In the channel's ``__dict__``, read there by kombu's close, which disconnects them."""
    got: list[Any] = []
    channel = consume(conn, got)
    run_until(hub, lambda: channel._sent == "BRPOP")
    client = channel.client
    assert channel.__dict__["client"] is client is channel.client
    assert client.connection is not None
    channel.close()
    assert client.connection is None  # kombu's _close_clients found it


def test_the_timer_is_cancelled_when_kombus_heap_has_another_layout() -> None:
    """``disarm`` reaches into kombu's private heap of (eta, priority, entry); a kombu whose
    heap holds something else leaves the entry there, cancelled, and the loop goes on."""
    from types import SimpleNamespace

    from workers.redis_poller import Poller

    cancelled: list[bool] = []
    entry = SimpleNamespace(cancel=lambda: cancelled.append(True))
    other = object()  # not indexable
    poller = Poller()
    poller.loop = SimpleNamespace(timer=SimpleNamespace(_queue=[other]))
    poller._armed = entry
    poller.disarm()
    assert cancelled == [True]
    assert poller._armed is None
    assert poller.loop.timer._queue == [other]
