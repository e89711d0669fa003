"""Log records made in fewer steps, the same fields as the stock ``logging.LogRecord``.

A worker makes two INFO records an alerting item. With the caller's file not looked for
(``logs.lean_records``: ``logging._srcfile`` off) the stock record still splits the
placeholder path ``(unknown file)`` into a file and a module name, and asks for the level's
name and about threads and processes, each time. ``LeanRecord`` sets the same fields, in the
same order, with those steps done once; anything else (a real path, a lone mapping argument,
threads or process names logged, another Python's record) takes the stock ``__init__``.
Tested against it (``tests/observe/test_records.py``).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

UNKNOWN_FILE = "(unknown file)"  # what ``Logger._log`` passes without ``findCaller``
# The fields below are Python 3.11's ``LogRecord.__init__`` (3.12 adds ``taskName``).
_SAME_FIELDS = sys.version_info[:2] == (3, 11)
_LEVEL_NAMES = logging._levelToName  # type: ignore[attr-defined]  # getLevelName's own map


class LeanRecord(logging.LogRecord):
    """A ``LogRecord`` whose common case (no caller looked for, no thread or process name)
    skips the stock record's per-record path splitting and flag checks."""

    def __init__(
        self,
        name: str,
        level: int,
        pathname: str,
        lineno: int,
        msg: object,
        args: Any,
        exc_info: Any,
        func: str | None = None,
        sinfo: str | None = None,
        **kwargs: Any,
    ) -> None:
        if (
            not _SAME_FIELDS
            or pathname != UNKNOWN_FILE
            or (args and len(args) == 1)  # maybe one mapping: the stock record unwraps it
            or logging.logThreads
            or logging.logMultiprocessing
            or not logging.logProcesses
        ):
            super().__init__(name, level, pathname, lineno, msg, args, exc_info, func, sinfo)
            return
        ct = time.time()
        self.name = name
        self.msg = msg
        self.args = args
        self.levelname = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
        self.levelno = level
        self.pathname = self.filename = self.module = pathname  # its base name, no extension
        self.exc_info = exc_info
        self.exc_text = None
        self.stack_info = sinfo
        self.lineno = lineno
        self.funcName = func  # type: ignore[assignment]  # None too, as the stock record
        self.created = ct
        self.msecs = int((ct - int(ct)) * 1000) + 0.0
        self.relativeCreated = (ct - logging._startTime) * 1000  # type: ignore[attr-defined]
        self.thread = self.threadName = self.processName = None
        self.process = os.getpid()
