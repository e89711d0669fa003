"""Log set-up for every process: text or JSON lines on stderr, ids as fields, secrets masked.

A line about an item or a delivery passes its ids with ``extra=`` (``ID_FIELDS``): JSON lines
carry them as keys, text lines as ``key=value`` after the message. Every line, in both formats,
is scrubbed of the set-up's secrets (channel URLs and their tokens, the API token, source
keys, the Redis password) and of what the notifiers registered (``alerts.notify.scrub``).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from alerts.masking import mask
from alerts.notify.scrub import REDACTOR, secret_pieces
from alerts.observe.settings import LogSetup

ID_FIELDS = (
    "bulletin_id",
    "source",
    "item_id",
    "item_ids",
    "watch",
    "channel",
    "delivery_id",
    "status",
)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "process", "message")
_RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
_JSON_KEYS = tuple((name, _RENAMED.get(name, name)) for name in JSON_FIELDS)
_NOT_EXTRA = frozenset((*JSON_FIELDS, *RESERVED_ATTRS))  # python-json-logger's skipped keys
_PLAIN = (str, int, type(None))  # values a scrub cannot change (a str: checked joined)


class Scrubber:
    """Masks known secrets in text: the settings' own, then the notifiers' registered ones."""

    def __init__(self, pieces: Iterable[str] = ()) -> None:
        self.pieces = sorted(set(pieces), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` without a known secret in it."""
        return REDACTOR.scrub(mask(text, self.pieces))


def setup_secrets(setup: LogSetup) -> list[str]:
    """Every secret of the set-up, and the long pieces of the secret URLs."""
    return [p for p in [*secret_pieces(setup.secret_urls), *setup.secrets] if len(p) >= 4]


class SecondCachedTime(logging.Formatter):
    """``logging.Formatter``'s time, its ``localtime`` and ``strftime`` done once a second
    (a worker logs two lines an item, many in the same second)."""

    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time as ``logging.Formatter.formatTime`` writes it."""
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created // 1)  # floor: a second before 1970 is not 1970 itself
        seen, text = self._second
        if second != seen:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)  # one tuple: a racing thread reads a matching pair
        msec = self.default_msec_format
        return msec % (text, record.msecs) if msec else text


class TextFormatter(SecondCachedTime):
    """One line: the usual prefix and message, then the record's ids as ``key=value``."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__(TEXT_FORMAT)
        self.scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        """The scrubbed line."""
        fields = record.__dict__
        ids = " ".join([f"{k}={fields[k]}" for k in ID_FIELDS if k in fields])
        if record.exc_info or record.exc_text or record.stack_info:
            line = super().format(record)
        else:  # ``logging.Formatter.format``'s steps for a line without a trace, inline
            record.message = record.getMessage()
            record.asctime = self.formatTime(record)
            line = TEXT_FORMAT % fields
        return self.scrub(f"{line} {ids}" if ids else line)


class JsonLineFormatter(SecondCachedTime, JsonFormatter):
    """One JSON object per line; every string value scrubbed before it is encoded."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__(list(JSON_FIELDS), rename_fields=dict(_RENAMED))
        self.scrub = scrub
        # What ``jsonify_log_record`` hands ``json.dumps`` (python-json-logger 4.2), made once:
        # ``json.dumps`` builds an encoder per call when given ``cls`` (a fifth of the line).
        self._encode = self.json_encoder(  # type: ignore[misc]
            default=self.json_default, indent=self.json_indent, ensure_ascii=self.json_ensure_ascii
        ).encode

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """What python-json-logger's own method adds for this formatter (``JSON_FIELDS``
        renamed, then the record's extras), without its steps for what ours never sets
        (defaults, static fields, a timestamp) and its lookups per field."""
        fields = record.__dict__
        for name, key in _JSON_KEYS:
            log_data[key] = fields.get(name)
        for key, value in message_dict.items():
            log_data[_RENAMED.get(key, key)] = value
        for key, value in fields.items():  # the extras: ``merge_record_extra``'s test
            if key not in _NOT_EXTRA and not (isinstance(key, str) and key.startswith("_")):
                log_data[_RENAMED.get(key, key)] = value

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:
        """The line: what python-json-logger's own method writes, with one encoder."""
        return self._encode(log_data)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        """Mask secrets in every value (messages, ids, exception texts).

        The strings, top-level and in lists of strings (``item_ids``), are scrubbed as one
        text first: when it holds no secret, none of them does (a secret in one is in the
        joined text), and the record goes on as it is; other values are cleaned one by one.
        """
        texts: list[str] = []
        nested = False
        for value in log_data.values():
            kind = type(value)
            if kind is str:
                texts.append(value)
            elif kind is list and all(type(v) is str for v in value):
                texts.extend(value)
            elif kind is not int and value is not None:
                nested = True
        joined = "\n".join(texts)
        clean = self._clean
        if self.scrub(joined) != joined:  # a secret somewhere: each value on its own
            return {k: clean(v) for k, v in log_data.items()}
        if nested:
            return {k: v if type(v) in _PLAIN else clean(v) for k, v in log_data.items()}
        return log_data

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        return value


def formatter(setup: LogSetup) -> logging.Formatter:
    """The formatter ``setup.format`` asks for, scrubbing the set-up's secrets."""
    scrub = Scrubber(setup_secrets(setup))
    if setup.format == "json":
        return JsonLineFormatter(scrub)
    return TextFormatter(scrub)


class JsonLineStream:
    """Stands in for a raw output stream in JSON mode: a line that is not a JSON object (Celery
    prints a few with ``print``, Python its last traceback) becomes a record of logger
    ``stdout``, so every line of the output parses."""

    def __init__(self, raw: TextIO, scrub: Scrubber, *, hide_fd: bool = False) -> None:
        self.raw = raw
        self.scrub = scrub
        self.hide_fd = hide_fd
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        """Buffer ``text``; write each complete line, as JSON."""
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                if line.strip():
                    self.raw.write(self._record(line) + "\n")
            self.raw.flush()
        return len(text)

    def flush(self) -> None:
        """Flush the raw stream (a partial line waits for its end)."""
        self.raw.flush()

    def _record(self, line: str) -> str:
        if line.startswith("{") and line.endswith("}"):
            return line  # a formatted record already
        now = datetime.now(UTC).isoformat()  # the wall clock of a log line, not core logic
        entry = {"time": now, "level": "INFO", "logger": "stdout", "message": self.scrub(line)}
        return json.dumps(entry)

    def fileno(self) -> int | None:
        """The raw descriptor; None when hidden, so a writer that would go around this stream
        (Celery's shutdown notice on ``sys.__stdout__``) skips its line."""
        return None if self.hide_fd else self.raw.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)  # isatty, encoding...


def _wrap_std_streams(scrub: Scrubber) -> None:
    for name in ("stdout", "stderr", "__stdout__", "__stderr__"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, JsonLineStream):
            setattr(sys, name, JsonLineStream(stream, scrub, hide_fd=name == "__stdout__"))


def configure_logging(setup: LogSetup, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records to one stderr handler in the configured format.

    In JSON mode, the process's raw output streams wrap whatever else is printed as JSON too.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(setup))
    if setup.format == "json" and stream is None:
        _wrap_std_streams(Scrubber(setup_secrets(setup)))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(setup.level)
    logging.captureWarnings(True)  # warnings become lines in the same format
    lean_records()
    return handler


def lean_records() -> None:
    """Records without what neither format prints: the caller's file, line and function
    (``findCaller`` walks the stack for each record), the thread, the multiprocessing name.

    The logging HOWTO's "Optimization" switches. ``TEXT_FORMAT`` and ``JSON_FIELDS`` name none
    of these fields and the JSON formatter leaves them out of its extras (reserved attributes);
    a record's ``stack_info`` is not asked for in this code base (it needs ``findCaller``).
    """
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logMultiprocessing = False
