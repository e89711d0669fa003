"""``LeanRecord`` is the stock ``logging.LogRecord``: the same fields, values and order."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from alerts.observe.records import UNKNOWN_FILE, LeanRecord

FLAGS = ("logThreads", "logMultiprocessing", "logProcesses")

try:
    raise RuntimeError("boom")
except RuntimeError:
    TRACE = sys.exc_info()

CALLS = [  # (name, level, pathname, lineno, msg, args, exc_info, func, sinfo)
    ("alerts.handoff", logging.INFO, UNKNOWN_FILE, 0, "delivery %s: %s", ("sent", "ok"), None,
     "(unknown function)", None),
    ("alerts.usecases.bulletins", logging.INFO, UNKNOWN_FILE, 0, "bulletin from %s: %d new items",
     ("api", 3), None, "(unknown function)", None),
    ("a", logging.DEBUG, UNKNOWN_FILE, 0, "plain", (), None, None, None),
    ("a", logging.WARNING, UNKNOWN_FILE, 0, "%(x)s", ({"x": 1},), None, None, None),  # a mapping
    ("a", logging.WARNING, UNKNOWN_FILE, 0, "%s", ({},), None, None, None),  # an empty one
    ("a", logging.WARNING, UNKNOWN_FILE, 0, "%s", ("one",), None, None, None),
    ("a", logging.ERROR, UNKNOWN_FILE, 0, "failed", None, TRACE, None, "Stack:\n  here"),
    ("a", 25, UNKNOWN_FILE, 0, "a level without a name", (), None, None, None),
    ("a", logging.CRITICAL, "/srv/alerts/handoff.py", 12, "real path", (), None, "f", None),
    ("a", logging.INFO, "", 0, "no path", (), None, None, None),
    ("a", logging.INFO, None, 0, "None for a path", (), None, None, None),
]  # fmt: skip


@pytest.fixture
def stock_flags() -> Iterator[None]:
    saved = {name: getattr(logging, name) for name in FLAGS}
    yield
    for name, value in saved.items():
        setattr(logging, name, value)


def fields(factory: Any, call: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(time, "time", lambda: 1_764_990_000.123456)  # one instant for both
    return list(factory(*call).__dict__.items())


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(
    "flags",
    [
        {"logThreads": False, "logMultiprocessing": False, "logProcesses": True},  # lean_records
        {"logThreads": True, "logMultiprocessing": True, "logProcesses": True},  # stock
        {"logThreads": False, "logMultiprocessing": False, "logProcesses": False},
        {"logThreads": False, "logMultiprocessing": True, "logProcesses": True},
    ],
)
def test_a_lean_record_is_the_stock_one(
    call: tuple[Any, ...], flags: dict[str, bool], stock_flags: None, monkeypatch
) -> None:
    for name, value in flags.items():
        setattr(logging, name, value)
    assert fields(LeanRecord, call, monkeypatch) == fields(logging.LogRecord, call, monkeypatch)


def test_the_lean_path_is_taken_for_the_service_s_lines(stock_flags: None, monkeypatch) -> None:
    """The common case does not go through the stock ``__init__`` (else nothing is saved)."""
    logging.logThreads = logging.logMultiprocessing = False
    stock: list[str] = []
    init = logging.LogRecord.__init__
    monkeypatch.setattr(
        logging.LogRecord, "__init__", lambda self, *a, **k: stock.append(a[0]) or init(self, *a)
    )
    LeanRecord(*CALLS[0])
    LeanRecord(*CALLS[8])  # a real path: the stock way
    assert stock == ["a"] if sys.version_info[:2] == (3, 11) else ["alerts.handoff", "a"]
