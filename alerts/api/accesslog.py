"""Access logs without secrets: query strings are scrubbed before uvicorn prints a request line.

A client that puts the API token in ``?token=`` is refused, but the access log would still keep
the token. Only parameters the API itself defines are kept; anything else is replaced by
``***``, so a secret in a query string never reaches a log.

Request lines are written a batch at a time (``Batched``): formatted and written one by one,
each with its own write to stderr, they cost the API about 0.08 ms of CPU per request at
300 requests/s. A line keeps its record's time; it is printed at most ``BATCH_SECONDS`` later,
and at exit (``logging.shutdown``) whatever is held is printed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from urllib.parse import parse_qsl, quote

KEPT = frozenset({"source", "watch", "status", "limit"})  # the API's own, never secret
MASK = "***"
ACCESS_LOGGER = "uvicorn.access"
# One kept parameter whose value neither parsing nor quoting changes (``?source=bench``, every
# upload): shown as it is, without parsing the query (5 µs per access line).
_PLAIN = re.compile(f"(?:{'|'.join(sorted(KEPT))})=[A-Za-z0-9_.~/-]*")


def scrub_target(target: str) -> str:
    """``path?query`` with only the ``KEPT`` parameters shown; anything else is one ``***``."""
    path, sep, query = target.partition("?")
    if not sep or _PLAIN.fullmatch(query):
        return target
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = [f"{quote(k)}={quote(v)}" for k, v in pairs if k in KEPT]
    if len(shown) < len(pairs) or not pairs:  # a name may be the secret too: none is shown
        shown.append(MASK)
    return f"{path}?{'&'.join(shown)}"


class ScrubQuery(logging.Filter):
    """Rewrites the request target of uvicorn's access records: (client, method, target, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Scrub in place; never drops a record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], scrub_target(args[2]), *args[3:])
        return True


BATCH_SECONDS = 0.25
BATCH_LINES = 256


class Batched(logging.Handler):
    """Holds the access records and hands them on to the root logger's handlers a batch at a
    time: when ``BATCH_LINES`` are held, ``BATCH_SECONDS`` after the first, or at once when
    not on an event loop. A plain ``StreamHandler`` gets the batch as one write."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] = []
        self.timer: asyncio.TimerHandle | None = None
        self.passing = threading.Lock()  # one batch handed on at a time, in order

    def emit(self, record: logging.LogRecord) -> None:
        """Hold ``record`` (under the handler's lock); hand the batch on when it is due."""
        self.held.append(record)
        if len(self.held) >= BATCH_LINES:
            self._pass_on()
        elif self.timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # not on an event loop: nothing would come back for it
                self._pass_on()
                return
            self.timer = loop.call_later(BATCH_SECONDS, self.flush)

    def flush(self) -> None:
        """Hand on what is held (the timer's call, and ``logging.shutdown``'s at exit)."""
        with self.lock:  # type: ignore[union-attr]  # made by Handler.__init__
            self._pass_on()

    def _pass_on(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        records, self.held = self.held, []
        if records:
            with self.passing:
                for handler in logging.getLogger().handlers:
                    _write(handler, records)


def _write(handler: logging.Handler, records: list[logging.LogRecord]) -> None:
    """``records`` through ``handler``: a plain ``StreamHandler``'s lines in one write."""
    if type(handler) is not logging.StreamHandler:
        for record in records:
            if record.levelno >= handler.level:
                handler.handle(record)
        return
    lines = [
        handler.format(r) + handler.terminator
        for r in records
        if r.levelno >= handler.level and handler.filter(r)
    ]
    if not lines:
        return
    handler.acquire()
    try:
        handler.stream.write("".join(lines))
        handler.flush()
    except Exception:  # as StreamHandler.emit: a broken stream must not break the API
        handler.handleError(records[0])
    finally:
        handler.release()


def install() -> None:
    """Scrub the access log of this process, and write it in batches (idempotent)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, ScrubQuery) for f in logger.filters):
        logger.addFilter(ScrubQuery())
    if not any(isinstance(h, Batched) for h in logger.handlers):
        logger.addHandler(Batched())
        logger.propagate = False  # its lines reach the root's handlers through Batched
