"""The access log's lines are written a batch at a time, in order, none lost at exit."""

from __future__ import annotations

import asyncio
import io
import logging
import weakref
from collections.abc import Iterator

import pytest

from alerts.api import accesslog
from alerts.api.accesslog import BATCH_LINES, Batched


class CountingStream(io.StringIO):
    """A stream that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, s: str) -> int:
        self.writes += 1
        return super().write(s)


@pytest.fixture
def access() -> Iterator[tuple[logging.Logger, CountingStream]]:
    """uvicorn's access logger with ``install``'s set-up, the root logging to a stream."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logger = logging.getLogger(accesslog.ACCESS_LOGGER)
    saved_access = (logger.handlers[:], logger.filters[:], logger.propagate, logger.level)
    stream = CountingStream()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    logger.handlers, logger.filters = [], []
    logger.setLevel(logging.INFO)
    accesslog.install()
    accesslog.install()  # idempotent
    try:
        yield logger, stream
    finally:
        root.handlers, root.level = saved
        logger.handlers, logger.filters, logger.propagate, logger.level = saved_access


def _line(logger: logging.Logger, n: int) -> None:
    logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "POST", f"/v1/x?token=t{n}", "1.1", 202)


def test_install_once_and_off_a_loop_at_once(
    access: tuple[logging.Logger, CountingStream],
) -> None:
    logger, stream = access
    assert [type(h) for h in logger.handlers].count(Batched) == 1
    assert not logger.propagate
    _line(logger, 1)
    assert stream.getvalue() == 'uvicorn.access 127.0.0.1:5 - "POST /v1/x?*** HTTP/1.1" 202\n'


def test_on_a_loop_lines_wait_for_the_batch_then_come_in_one_write(
    access: tuple[logging.Logger, CountingStream], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, stream = access
    monkeypatch.setattr(accesslog, "BATCH_SECONDS", 0.05)

    async def serve() -> None:
        for n in range(5):
            _line(logger, n)
        assert stream.getvalue() == ""  # held
        await asyncio.sleep(0.2)

    asyncio.run(serve())
    lines = stream.getvalue().splitlines()
    assert len(lines) == 5 and stream.writes == 1
    assert all("***" in line and "token" not in line for line in lines)  # still scrubbed


def test_a_full_batch_is_written_before_its_time(
    access: tuple[logging.Logger, CountingStream],
) -> None:
    logger, stream = access

    async def serve() -> None:
        for n in range(BATCH_LINES + 1):
            _line(logger, n)

    asyncio.run(serve())
    assert len(stream.getvalue().splitlines()) == BATCH_LINES  # the last one is held
    assert stream.writes == 1
    next(h for h in logger.handlers if isinstance(h, Batched)).flush()  # as at exit
    assert len(stream.getvalue().splitlines()) == BATCH_LINES + 1


def test_held_lines_are_written_at_exit(access: tuple[logging.Logger, CountingStream]) -> None:
    logger, stream = access

    async def serve() -> None:
        _line(logger, 1)
        _line(logger, 2)

    asyncio.run(serve())  # the loop ends with its timer pending
    assert stream.getvalue() == ""
    held = next(h for h in logger.handlers if isinstance(h, Batched))
    logging.shutdown([weakref.ref(held)])  # what runs at exit, for this handler
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and stream.writes == 1
