"""The worker's event loop trims (``workers/hub.py``): no epoll call that changes nothing, and a
job written to a pool child as it is queued."""

from __future__ import annotations

from typing import Any

from kombu.asynchronous import Hub
from kombu.utils.eventio import ERR, WRITE

from workers.hub import trim, write_at_once


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
