"""The worker's event loop trims (``workers/hub.py``): no epoll call that changes nothing, and a
job written to a pool child as it is queued."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import Any

import pytest
from kombu.asynchronous import Hub
from kombu.utils.eventio import ERR, READ, WRITE

from workers.hub import LeanHub, OneWrite, join_payload, keep_partial_reads, trim, write_at_once


class Poller:
    """Records the epoll calls a hub makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.ready: list[tuple[int, int]] = []  # what the next poll reports

    def register(self, fd: int, events: int) -> None:
        self.calls.append(("add", fd))

    def unregister(self, fd: int) -> None:
        self.calls.append(("del", fd))

    def poll(self, timeout: Any) -> list[tuple[int, int]]:
        events, self.ready = self.ready, []
        return events


def trimmed() -> tuple[Hub, Poller]:
    """A hub trimmed (``trim``) on a poller that records its epoll calls."""
    loop = Hub()
    poller = Poller()
    loop.poller = poller
    trim(loop)
    return loop, poller


def test_a_trimmed_hub_skips_the_epoll_calls_that_change_nothing() -> None:
    loop, poller = trimmed()
    loop.remove_writer(9)  # never added: nothing to remove
    assert poller.calls == []
    loop.add(9, None, WRITE | ERR, consolidate=True)  # the pool's way to want a write
    loop.add(9, None, WRITE | ERR, consolidate=True)  # already wanted
    assert poller.calls == [("add", 9)]
    loop.remove_writer(9)
    assert poller.calls == [("add", 9), ("del", 9)]
    assert 9 not in loop.writers
    loop.add_reader(11, print, 11)
    loop.add_reader(11, print, 11)  # readers are handed over as before
    assert poller.calls[-2:] == [("add", 11), ("add", 11)]
    assert loop.readers[11] == (print, (11,))


def test_a_reader_the_loop_holds_on_a_pipe_just_polled_is_not_added_again() -> None:
    """The pool's result reader, handed over again after each message read from its pipe."""
    loop, poller = trimmed()
    loop.add_reader(11, print, 11)
    assert poller.calls == [("add", 11)]
    poller.ready = [(11, READ)]
    loop.poller.poll(1)  # the loop's poll reports the pipe: its poller has it
    loop.add_reader(11, print, 11)
    assert poller.calls == [("add", 11)]
    loop.add_reader(11, repr, 11)  # another reader: handed over
    loop.add_reader(12, print, 12)  # not polled
    assert poller.calls == [("add", 11), ("add", 11), ("add", 12)]
    loop.remove(11)  # dropped (a child gone): its pipe's number may come back
    loop.add_reader(11, repr, 11)
    assert poller.calls[-2:] == [("del", 11), ("add", 11)]
    loop.poller.poll(1)  # reports nothing
    loop.add_reader(11, repr, 11)
    assert poller.calls[-1] == ("add", 11)
    assert loop.readers[11] == (repr, (11,))


def test_a_new_poller_gets_every_reader() -> None:
    loop, first = trimmed()
    loop.add_reader(11, print, 11)
    first.ready = [(11, READ)]
    loop.poller.poll(1)
    second = Poller()
    loop.poller = second  # as the loop's reset makes one
    loop.add_reader(11, print, 11)
    assert second.calls == [("add", 11)]


class FakePool:
    """The parts of Celery's AsynPool that ``write_at_once`` reads."""

    def __init__(self) -> None:
        self.queued: list[Any] = []
        self._quick_put = self.queued.append
        self._all_inqueues = {5, 6, 7}
        self._active_writes = {6}  # a job being written to this child
        self._busy_workers = {7}  # this child runs a job (the fair strategy)


class TaskPool:
    def __init__(self) -> None:
        self._pool = FakePool()


def test_a_job_is_written_to_an_idle_child_as_it_is_queued() -> None:
    loop = Hub()
    scheduled: list[list[int]] = []
    loop.consolidate_callback = scheduled.append  # the pool's writer for writable pipes
    taskpool = TaskPool()
    write_at_once(taskpool, loop)
    taskpool._pool._quick_put("job")
    assert taskpool._pool.queued == ["job"]
    assert scheduled == [[5]]  # only the idle child's pipe
    taskpool._pool._busy_workers.add(5)
    taskpool._pool._quick_put("job 2")
    assert scheduled == [[5]]  # no idle child: the loop writes it when one is


def test_a_pool_without_the_loop_is_left_alone() -> None:
    loop = Hub()
    loop.consolidate_callback = None
    taskpool = TaskPool()
    put = taskpool._pool._quick_put
    write_at_once(taskpool, loop)
    assert taskpool._pool._quick_put == put


class _Children:
    """The prefork pool's table that ``keep_partial_reads`` reads: result pipe -> child."""

    def __init__(self, outqs: dict[int, object]) -> None:
        self._fileno_to_outq = outqs


def _half_read() -> Any:
    """A reader suspended halfway through a message, as Celery's ``_recv_message``."""
    reading = _reading()
    next(reading)
    return reading


def _reading() -> Any:
    yield  # the rest of the message: read when its pipe is readable again
    yield


def test_a_reset_of_the_loop_keeps_a_half_read_result_for_the_same_child_only() -> None:
    """Celery resets the hub when the broker connection drops; the pool then registers its
    result reader anew. A message read halfway must be read on by the same generator (else
    its rest is taken for a new message: UnpicklingError, the worker stops)."""
    pipes = [os.pipe() for _ in range(3)]
    a, b, c = (r for r, _ in pipes)  # three children's result pipes
    child_a, child_b, child_b2 = object(), object(), object()
    pool = _Children({a: child_a, b: child_b, c: object()})
    loop = Hub()
    try:
        resume = keep_partial_reads(loop, lambda: pool)
        reading_a, reading_b, done = _half_read(), _half_read(), _half_read()
        list(done)  # c's message was read to its end: nothing to keep
        loop.add_reader(a, reading_a)
        loop.add_reader(b, reading_b)
        loop.add_reader(c, done)
        loop.reset()
        # Still the loop's until the pool registers again: a shutdown meanwhile finishes them.
        assert loop.readers == {a: (reading_a, ()), b: (reading_b, ())}
        pool._fileno_to_outq[b] = child_b2  # b died meanwhile; its pipe went to a new child
        for fd in (a, b, c):  # the pool's new registration, as on reconnect
            loop.add_reader(fd, print, fd)
        resume()
        assert loop.readers[a] == (reading_a, ())
        assert loop.readers[b] == (print, (b,))  # the new child's pipe: the pool's reader
        assert loop.readers[c] == (print, (c,))
        loop.add_reader(a, print, a)  # a's message read: the pool's reader is back
        loop.reset()  # nothing halfway now
        assert loop.readers == {}
        loop.add_reader(a, print, a)
        resume()
        assert loop.readers[a] == (print, (a,))
    finally:
        loop.close()
        for r, w in pipes:
            os.close(r)
            os.close(w)


def test_the_worker_hands_a_half_read_result_back_after_each_registration() -> None:
    """``LeanHub`` wires ``keep_partial_reads`` into the pool's registration with the loop."""
    r, w = os.pipe()
    loop = Hub()
    child = object()

    class RegisteringPool:  # Celery's TaskPool, as far as LeanHub's wiring reads it
        _pool = _Children({r: child})

        def register_with_event_loop(self, hub: Any) -> None:
            hub.add_reader(r, print, r)  # Celery's pool: its result reader for each child

    worker = SimpleNamespace(hub=loop, pool=RegisteringPool(), use_eventloop=True)
    try:
        LeanHub(worker).create(worker)
        worker.pool.register_with_event_loop(loop)
        reading = _half_read()
        loop.add_reader(r, reading)
        loop.reset()
        worker.pool.register_with_event_loop(loop)
        assert loop.readers[r] == (reading, ())
    finally:
        loop.close()
        os.close(r)
        os.close(w)


class _Pipe:
    """A child's job pipe: ``send_job_offset`` as billiard's (``os.write`` of
    ``buffer[offset:]``), taking at most ``room`` bytes a write."""

    def __init__(self, *rooms: int) -> None:
        self.rooms = list(rooms)
        self.data = bytearray()
        self.writes = 0

    def send(self, buffer: Any, offset: int) -> int:
        self.writes += 1
        chunk = bytes(buffer[offset:])[: self.rooms.pop(0) if self.rooms else None]
        self.data += chunk
        return len(chunk)


def _write_job(send: Any, payload: tuple[Any, Any, int]) -> None:
    """Celery's ``_write_job`` loops (``asynpool``): the header, then the body."""
    header, body, size = payload
    written = 0
    while written < 4:
        written += send(header, written)
    written = 0
    while written < size:
        written += send(body, written)


class _Job:
    def __init__(self, body: bytes) -> None:
        self._payload = (
            memoryview(len(body).to_bytes(4, "big")),
            memoryview(body),
            len(body),
        )


class _Child:
    def __init__(self, pipe: _Pipe) -> None:
        self.send_job_offset = pipe.send


class _JobPool:
    """The parts of Celery's AsynPool that ``join_payload`` reads."""

    def __init__(self, *children: _Child) -> None:
        self._cache: dict[int, _Job] = {}
        self._pool = list(children)


@pytest.mark.parametrize("rooms", [(), (2,), (3, 1), (4,), (10,), (4, 3, 100), (1, 1, 1, 1, 5)])
def test_a_job_goes_in_one_write_and_every_byte_once_in_order(rooms: tuple[int, ...]) -> None:
    body = bytes(range(256)) * 4
    pipe = _Pipe(*rooms)
    pool = _JobPool(_Child(pipe))
    pool._cache[7] = _Job(body)
    join_payload(pool, ("TASK", (7, 0, None, (), {})))
    send = pool._pool[0].send_job_offset
    assert isinstance(send, OneWrite)
    join_payload(pool, ("TASK", (7, 0, None, (), {})))  # wrapped once, not twice
    assert pool._pool[0].send_job_offset is send
    _write_job(send, pool._cache[7]._payload)
    assert bytes(pipe.data) == len(body).to_bytes(4, "big") + body
    if not rooms:
        assert pipe.writes == 1  # header and body in one write


def test_a_joined_job_is_written_whole_by_an_unwrapped_writer() -> None:
    """A child started after the job was joined (its writer not wrapped yet)."""
    body = b"x" * 100
    pool = _JobPool()
    pool._cache[1] = _Job(body)
    join_payload(pool, ("TASK", (1,)))
    pipe = _Pipe()
    _write_job(pipe.send, pool._cache[1]._payload)
    assert bytes(pipe.data) == (100).to_bytes(4, "big") + body
    assert pipe.writes == 2


def test_anything_else_is_left_as_it_is() -> None:
    pool = _JobPool()
    join_payload(pool, "job")  # not the pool's message
    join_payload(pool, ("TASK", (3,)))  # not in the pool's cache
    pipe = _Pipe()
    send = OneWrite(pipe.send)
    assert send(memoryview(b"abcdef"), 2) == 4
    assert bytes(pipe.data) == b"cdef"
