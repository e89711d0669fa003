"""Group commit on the event loop: calls that come within a linger of each other share one flush.

Under load the API's Celery hop costs more than a small bulletin's own work (a task message, the
consumer's BRPOP, unacked record and ack, the pool's job and result: about 0.8 ms of CPU per
task). A ``Batcher`` lets POSTs that arrive within ``linger`` seconds of the last flush wait for
the next one, so they share one Redis round trip and one task message; a call that comes when
no flush happened for ``linger`` seconds is flushed at once, so a quiet service adds no latency.
So is a call from a client (``key``: its connection) that sends again at once after its own last
answer (within ``AT_ONCE`` seconds, or a quarter of a shorter linger's): a client that waits for
each answer and sends again at once (a backfill script on one kept-alive connection; several of
them side by side) has nobody to share a write with, and would otherwise wait a linger per call.
A client back later (one that posts each bulletin as it comes) lingers as any other: a quarter
of a long linger would let most such clients through alone and undo the grouping.
Each caller gets its own result, or the flush's exception (the API then answers 503 to each).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ANSWERS_KEPT = 1024  # clients whose last answer is remembered
AT_ONCE = 0.005  # seconds: a client back within this of its answer sends one at a time
Flush = Callable[[Sequence[T]], Awaitable[Sequence[R]]]  # one result per value, in order


class Batcher(Generic[T, R]):
    """Calls within ``linger`` seconds of the last flush wait for the next (at most ``most``
    values a flush); ``clock``: seconds, monotonic (injected in tests)."""

    def __init__(
        self,
        flush: Flush[T, R],
        linger: float,
        most: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.flush, self.linger, self.most, self.clock = flush, linger, max(most, 1), clock
        self.at_once = min(linger / 4, AT_ONCE)  # back this soon after its answer: one at a time
        self.last = float("-inf")  # when the last flush began
        self.answered: dict[object, float] = {}  # a caller's last answer (inf: awaited)
        self.pending: list[tuple[T, asyncio.Future[R]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.running: set[asyncio.Task[None]] = set()  # flushes in flight (kept referenced)

    async def __call__(self, value: T, key: object = None) -> R:
        """``value``'s result, from the flush it joins; ``key``: who calls (None: unknown)."""
        now = self.clock()
        if key is None:
            return await self._call(value, now, turned=False)
        # A client back at once after its answer: it sends one at a time.
        turned = 0 <= now - self.answered.get(key, float("-inf")) < self.at_once
        if len(self.answered) >= ANSWERS_KEPT and key not in self.answered:
            self.answered.clear()  # many clients: forget them all (they only lose the rule)
        self.answered[key] = float("inf")
        try:
            return await self._call(value, now, turned=turned)
        finally:
            self.answered[key] = self.clock()

    async def _call(self, value: T, now: float, *, turned: bool) -> R:
        if not self.pending and (turned or now - self.last >= self.linger):
            self.last = now  # quiet: this one goes at once, alone
            return (await self._flushed([value]))[0]
        return await self._joined(value, now)

    async def _joined(self, value: T, now: float) -> R:
        """Wait for the next flush (at most a linger after the last one began)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self.pending.append((value, future))
        if len(self.pending) >= self.most:
            self._go()
        elif self.timer is None:
            self.timer = loop.call_later(max(self.last + self.linger - now, 0.0), self._go)
        return await future

    def _go(self) -> None:
        """Flush what is pending, in a task of its own."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        self.last = self.clock()
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self.running.add(task)
        task.add_done_callback(self.running.discard)

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._flushed([value for value, _ in batch])
        except BaseException as exc:  # every caller sees it (a cancelled caller is gone)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_, future), result in zip(batch, results, strict=False):
            if not future.done():
                future.set_result(result)

    async def _flushed(self, values: list[T]) -> Sequence[R]:
        results = await self.flush(values)
        if len(results) != len(values):
            raise RuntimeError(f"{len(results)} results for {len(values)} values")
        return results
