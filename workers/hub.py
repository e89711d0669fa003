"""The worker's event loop without the epoll calls that change nothing.

Before every poll, the prefork pool's hook (``AsynPool.on_poll_start``) hands each child's
job pipe to the loop: with jobs waiting, ``hub.add`` for each idle child's pipe (already there
mostly: a failed ``epoll_ctl(ADD)``, EEXIST, raised and swallowed), else ``hub.remove_writer``
for each (mostly not there: a failed ``epoll_ctl(DEL)``, ENOENT, swallowed). With two children
and two or three ticks per task message that was four to six failed system calls and as many
exceptions per task in the pool's parent. ``LeanHub`` skips the two cases where the call would
change nothing: the loop's own tables (``readers``, ``writers``, ``consolidate``) tell.
``poll_start_hook`` does the same for kombu's Redis transport (``workers/redis_transport.py``).

A job for the pool waited for the next poll to be written to a child: its pipe was handed to
epoll as a writer (one ``epoll_ctl`` per idle child), the loop polled again (a whole iteration,
with every hook), wrote it, and took the pipes back out. ``write_at_once`` writes it as it is
queued, through the pool's own writer (``schedule_writes``, the loop's callback for writable
pipes) over the idle children's pipes: a pipe is writable unless its buffer is full, and a job
that does not fit is finished by the pool as before, once epoll says the pipe has room.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import GEN_SUSPENDED, getgeneratorstate
from types import GeneratorType
from typing import Any

from celery import bootsteps
from kombu.utils.eventio import ERR, READ, WRITE


def trim(hub: Any) -> None:
    """Give ``hub`` (kombu's ``Hub``) an ``add`` and a ``remove_writer`` that skip no-ops.

    The pool's result reader (Celery's ``_recv_message``) hands its pipe's reader to the loop
    again after every message it reads (two per task: the child's ACK and its result), while
    that reader is in place: a failed ``epoll_ctl(ADD)`` (EEXIST) each time. Such an ``add``
    is skipped when the loop's last poll reported that pipe (so its poller has it) and the
    loop already holds that very reader for it.
    """
    add, remove_writer = hub.add, hub.remove_writer
    poller, polled = hub.poller, set[int]()  # the fds the poller's last poll reported

    def lean_add(
        fd: Any, callback: Any, flags: int, args: Any = (), consolidate: bool = False
    ) -> Any:
        # A consolidated writer is recorded as ``writers[fd] = None``: already so, nothing to do.
        if consolidate and flags & WRITE and not flags & READ and _known_writer(hub, fd):
            return None
        # A reader the last poll reported, on the same poller, already held: epoll holds it
        # too as long as Celery removes a reader before closing its fd (Celery 5.7 does:
        # ``destroy_queues`` calls ``hub_remove`` first, ``on_process_down`` ``remove_reader``).
        # On a Celery upgrade, read those two again: tests/workers/test_hub.py drives the hub,
        # not Celery's pool, so it would not notice a pool that closes a reader's fd first.
        if (
            flags == READ | ERR
            and fd in polled
            and hub.poller is poller
            and hub.readers.get(fd) == (callback, args)
        ):
            return None
        return add(fd, callback, flags, args, consolidate)

    poll = poller.poll

    def lean_poll(timeout: Any) -> Any:
        events = poll(timeout)
        polled.clear()
        if events:
            polled.update(fd for fd, _ in events)
        return events

    poller.poll = lean_poll

    def lean_remove_writer(fd: Any) -> Any:
        # Neither a reader nor a writer of the loop: nothing registered to remove.
        if isinstance(fd, int) and fd not in hub.writers and fd not in hub.readers:
            return None
        return remove_writer(fd)

    hub.add, hub.remove_writer = lean_add, lean_remove_writer


def _known_writer(hub: Any, fd: Any) -> bool:
    return isinstance(fd, int) and fd in hub.consolidate and hub.writers.get(fd, 0) is None


def poll_start_hook(cycle: Any, loop: Any, on_readable: Any) -> Any:
    """What kombu runs before every poll of the loop: the channels' poll start, then each
    socket's reader handed to the loop, but only when the loop lacks it.

    kombu's hook calls ``add_reader`` for every socket on every tick: each was a failed
    ``epoll_ctl(ADD)`` (EEXIST, raised and swallowed), several per task message. The poller
    registers a socket with epoll itself when it (re)connects one (``_register``), and kombu
    drops a disconnected socket's reader from the loop (``_on_disconnect``): a socket whose
    reader is in place is polled already.
    """
    readers = loop.readers
    cycle.in_loop = True

    def on_poll_start() -> None:
        cycle.on_poll_start()
        for fd in cycle.fds:
            if readers.get(fd) != (on_readable, (fd,)):
                loop.add_reader(fd, on_readable, fd)

    return on_poll_start


def write_at_once(taskpool: Any, hub: Any) -> None:
    """Have the prefork pool (``taskpool``, Celery's) write each job as it queues it."""
    pool = getattr(taskpool, "_pool", None)
    schedule = getattr(hub, "consolidate_callback", None)
    if pool is None or schedule is None or not hasattr(pool, "_all_inqueues"):
        return
    put = pool._quick_put
    inqueues, writing, busy = pool._all_inqueues, pool._active_writes, pool._busy_workers

    def put_and_write(job: Any) -> None:
        put(job)
        join_payload(pool, job)
        idle = [fd for fd in inqueues if fd not in writing and fd not in busy]
        if idle:
            schedule(idle)

    pool._quick_put = put_and_write


class Joined(bytes):
    """A job's header and body in one buffer (``join_payload``): Celery's payload views of it,
    ``header`` and ``body``, and ``ahead``, the body bytes written with the header."""

    header: memoryview
    body: memoryview
    ahead = 0


def join_payload(pool: Any, message: Any) -> None:
    """Put the job just queued (``message``: the pool's ``(TASK, (job id, ...))``) in one buffer,
    and have each child's job writer write it in one write (``one_write``).

    Celery's ``_write_job`` writes a job's 4-byte header, then its body: two ``write`` calls
    in the pool's parent, and the child, blocked reading the header, woken up for each part.
    """
    try:
        job = pool._cache[message[1][0]]
        header, body, size = job._payload
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        return  # not the prefork pool's job: left as it is
    joined = Joined(bytes(header) + bytes(body))
    view = memoryview(joined)
    joined.header, joined.body = view[:4], view[4:]
    job._payload = joined.header, joined.body, size
    for child in getattr(pool, "_pool", ()):
        send = getattr(child, "send_job_offset", None)
        if send is not None and not isinstance(send, OneWrite):
            child.send_job_offset = OneWrite(send)


class OneWrite:
    """A child's ``send_job_offset(buffer, offset)`` (``os.write`` of ``buffer[offset:]`` on its
    job pipe) that writes a joined job's header with its body, in one write.

    Asked for the header, it writes the header's rest and the body and answers the header's
    bytes written; asked then for the body, it answers the body's bytes already written,
    without a system call, and writes only what that write left (a full pipe) as asked. Every
    byte goes once and in order, and a partial write is finished by Celery as before.
    """

    __slots__ = ("send",)

    def __init__(self, send: Callable[[Any, int], int]) -> None:
        self.send = send

    def __call__(self, buffer: Any, offset: int) -> int:
        joined = getattr(buffer, "obj", None)
        if type(joined) is Joined:
            if buffer is joined.header:
                written = self.send(memoryview(joined), offset)
                joined.ahead = max(offset + written - 4, 0)
                return min(written, 4 - offset)
            if buffer is joined.body and offset < joined.ahead:
                return joined.ahead - offset
        return self.send(buffer, offset)


def keep_partial_reads(hub: Any, pool_of: Callable[[], Any]) -> Callable[[], None]:
    """Keep the pool's half-read result messages across a reset of the loop; the function
    that hands them back once the pool has registered with the loop again.

    When the broker connection drops, Celery 5.7 resets the hub (``loops.asynloop``: every
    reader and writer dropped), and on reconnect the pool registers its result reader
    (``handle_event``) for each child's pipe anew. A result message read halfway (its reader
    was a ``_recv_message`` generator: a message over 4 KiB, such as a failure's traceback)
    was then read on from its middle as if a new one began: ``UnpicklingError: invalid load
    key`` in the consumer, an unrecoverable error, and the worker stopped (seen once in CI, in
    ``test_worker_broker_drop``). Each suspended reader is put back on the reset loop at once
    (a shutdown meanwhile finishes it, ``_finish_partial_read``), and again after the pool's
    registration, for the same child only: a child that replaced a dead one on the same pipe
    keeps the pool's reader. ``pool_of``: the prefork pool (its ``_fileno_to_outq``).
    Half-written jobs need nothing: the consumer's ``on_close`` flushes them (``pool.flush``).
    """
    reset = hub.reset
    held: dict[int, tuple[Any, Any]] = {}  # fd -> (its reader, the child it reads)

    def reset_keeping() -> None:
        outqs = _outqs(pool_of())
        held.clear()
        for fd, entry in hub.readers.items():
            reading = entry[0] if isinstance(entry, tuple) else None
            if _suspended(reading) and outqs.get(fd) is not None:
                held[fd] = (reading, outqs[fd])
        reset()
        for fd, (reading, _) in held.items():
            hub.add_reader(fd, reading)

    def resume() -> None:
        outqs = _outqs(pool_of())
        for fd, (reading, child) in held.items():
            if outqs.get(fd) is child and _suspended(reading):
                hub.add_reader(fd, reading)
        held.clear()

    hub.reset = reset_keeping
    return resume


def _outqs(pool: Any) -> dict[int, Any]:
    return getattr(pool, "_fileno_to_outq", None) or {}


def _suspended(reader: Any) -> bool:
    return isinstance(reader, GeneratorType) and getgeneratorstate(reader) == GEN_SUSPENDED


class LeanHub(bootsteps.StartStopStep):
    """Worker bootstep: trims the event loop (``trim``) before the pool registers with it, keeps
    the pool's half-read result messages across a reset of the loop (``keep_partial_reads``),
    and has the pool write each job at once (``write_at_once``) each time it has registered (it
    makes a new job writer each time)."""

    requires = ("celery.worker.components:Hub", "celery.worker.components:Pool")

    def include_if(self, w: Any) -> bool:
        """Only where the worker runs an event loop (prefork with the loop, not solo)."""
        return bool(getattr(w, "use_eventloop", False))

    def create(self, w: Any) -> None:
        """Trim the worker's hub; wrap its pool's registration with the loop."""
        if w.hub is None or w.pool is None:
            return
        trim(w.hub)
        resume = keep_partial_reads(w.hub, lambda: getattr(w.pool, "_pool", None))
        register = w.pool.register_with_event_loop

        def register_with_event_loop(hub: Any) -> None:
            register(hub)
            resume()
            write_at_once(w.pool, hub)

        w.pool.register_with_event_loop = register_with_event_loop


class RecordFirst(bootsteps.StartStopStep):
    """Worker bootstep: where tasks run in the consumer's own loop (any pool but prefork: solo,
    threads), the channel writes a message's unacked record before its task runs
    (``redis_transport.Channel.record_at_once``), not when the loop next waits."""

    requires = ("celery.worker.components:Pool",)

    def include_if(self, w: Any) -> bool:
        """Only where the worker runs an event loop (held records are the loop's)."""
        return bool(getattr(w, "use_eventloop", False))

    def create(self, w: Any) -> None:
        """Record at once unless the pool hands each task to a child process."""
        from workers import redis_transport  # not at the top: it imports this module

        redis_transport.Channel.record_at_once = runs_tasks_itself(w.pool)


def runs_tasks_itself(pool: Any) -> bool:
    """True for a worker whose tasks run in its own process (any pool but prefork: solo,
    threads), False where the pool hands each to a child process."""
    from celery.concurrency.prefork import TaskPool as Prefork

    return not isinstance(pool, Prefork)
