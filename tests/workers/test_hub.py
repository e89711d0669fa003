"""The worker's event loop trims (``workers/hub.py``): no epoll call that changes nothing, and a
job written to a pool child as it is queued."""

from __future__ import annotations

import os
from typing import Any

from kombu.asynchronous import Hub
from kombu.utils.eventio import ERR, WRITE

from workers.hub import keep_partial_io, trim, write_at_once


class Poller:
    """Records the epoll calls a hub makes."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def register(self, fd: int, events: int) -> None:
        self.calls.append(("add", fd))

    def unregister(self, fd: int) -> None:
        self.calls.append(("del", fd))


def test_a_trimmed_hub_skips_the_epoll_calls_that_change_nothing() -> None:
    loop = Hub()
    poller = Poller()
    loop.poller = poller
    trim(loop)
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


class _Pool:
    """The prefork pool's tables that ``keep_partial_io`` reads."""

    def __init__(self, outqs: set[int], inqs: set[int]) -> None:
        self._fileno_to_outq = dict.fromkeys(outqs)
        self._all_inqueues = inqs


def _reading() -> Any:
    yield  # a result message read halfway: resumed when its pipe is readable again


def test_a_reset_of_the_loop_keeps_a_half_read_result_and_a_half_written_job() -> None:
    """Celery resets the hub when the broker connection drops; the pool then registers its
    result reader anew. A message read halfway must be read on by the same generator (else
    its rest is taken for a new message: UnpicklingError, the worker stops)."""
    pipes = [os.pipe() for _ in range(3)]
    a_out, a_in, b_out = pipes[0][0], pipes[1][1], pipes[2][0]  # child A's pipes, child B's
    plain = pipes[1][0]
    loop = Hub()
    try:
        resume = keep_partial_io(loop)
        reading, writing, gone = _reading(), _reading(), _reading()
        loop.add_reader(a_out, reading)  # child A's result pipe, halfway through a message
        loop.add_writer(a_in, writing)  # child A's job pipe, halfway through a job
        loop.add_reader(b_out, gone)  # child B, which dies while the broker is away
        loop.add_reader(plain, print, plain)  # a plain reader: registered again by its owner
        loop.reset()
        assert loop.readers == {} and loop.writers == {}
        loop.add_reader(a_out, print, a_out)  # the pool's new registration, as on reconnect
        loop.add_reader(plain, print, plain)
        resume(_Pool(outqs={a_out, plain}, inqs={a_in}))
        assert loop.readers[a_out] == (reading, ())
        assert loop.writers[a_in] == (writing, ())
        assert b_out not in loop.readers  # its child is gone: nothing resumed for it
        assert loop.readers[plain] == (print, (plain,))
        loop.add_reader(a_out, print, a_out)  # the message read: the pool's reader is back
        loop.reset()  # a second reset with nothing halfway: the pool's own readers only
        loop.add_reader(a_out, print, a_out)
        resume(_Pool(outqs={a_out}, inqs=set()))
        assert loop.readers[a_out] == (print, (a_out,))
    finally:
        loop.close()
        for r, w in pipes:
            os.close(r)
            os.close(w)
