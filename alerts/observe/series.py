"""Labelled counters an alerting item adds to, written straight into this process's own file.

prometheus-client (0.26) makes a child object per label set on ``labels()``: label checks, a
metric object, a value object, a JSON key (~45 µs and about a kilobyte each: the first alert of
each watch in each process, ten megabytes a pool child with 10k watches); each ``inc`` then
goes through the child, its value, a lock and a pid check. A ``Series`` keeps, per label tuple,
only the key and the count, in a multiprocess file of its own beside prometheus-client's:
``counter_<pid>_series.db`` in the same directory. ``MultiProcessCollector`` reads every
``*.db`` there, takes the type from the name's first part and sums a counter's series over the
files, so the endpoint shows the same samples as with prometheus-client's children.

It leans on prometheus-client's ``MmapedDict`` (the file format) and on the key format of its
``mmap_key``; ``tests/observe/test_series.py`` holds both to the collector's reading.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import Any

from alerts.observe.multiproc import ensure_dir

ensure_dir()  # before prometheus_client is imported (``metrics`` says why)

from prometheus_client import Counter  # noqa: E402
from prometheus_client.mmap_dict import MmapedDict  # noqa: E402

FILE = "counter_{pid}_series.db"
_quote = encode_basestring_ascii  # json.dumps's quoting of a str (``ensure_ascii``, the default)


class SeriesFile:
    """This process's file of ``Series``, opened on first use, and again in a forked child
    (whose parent's file is not its own): a child counts from zero in a file of its pid, as
    prometheus-client's values do."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.pid = -1
        self.table: MmapedDict | None = None
        self.counts: dict[tuple[Series, tuple[str, ...]], list[Any]] = {}  # series: [key, value]
        self.lock = threading.Lock()  # the API counts from a thread pool
        _FILES.add(self)

    def inc(self, series: Series, values: tuple[str, ...], amount: float) -> None:
        """Add ``amount`` to one series: its file slot made (or read back) the first time."""
        with self.lock:
            if self.pid != os.getpid():
                self._reopen()
            slot = self.counts.get((series, values))
            table = self.table
            assert table is not None  # opened above
            if slot is None:
                key = series.key(values)
                slot = self.counts[(series, values)] = [key, table.read_value(key)[0]]
            slot[1] += amount
            table.write_value(slot[0], slot[1], 0.0)

    def _reopen(self) -> None:
        self.pid = os.getpid()
        self.table = MmapedDict(str(self.directory / FILE.format(pid=self.pid)))
        self.counts.clear()


_FILES: weakref.WeakSet[SeriesFile] = weakref.WeakSet()


def _new_locks() -> None:
    """Each file's lock new in a forked child: one another thread held at the fork would stay
    held there for good, and the child's first count would wait forever."""
    for file in _FILES:
        file.lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks)


class Series:
    """A labelled counter's series in this process, counted without per-label-set objects.

    ``metric`` declares the counter (name, help, label names: the docs test reads them there);
    its own children stay empty.
    """

    def __init__(self, metric: Counter, file: SeriesFile) -> None:
        names = metric._labelnames
        self._order = sorted(range(len(names)), key=names.__getitem__)  # the key's label order
        self._names = [f"{_quote(names[i])}: " for i in self._order]
        self._head = json.dumps([metric._name, metric._name + "_total"])[:-1] + ", {"
        self._tail = "}, " + json.dumps(metric._documentation) + "]"
        self._file = file

    def inc(self, *values: str, amount: float = 1.0) -> None:
        """Count ``amount`` for the series of these label values; a counter only goes up
        (``ValueError``, as ``Counter.inc`` raises)."""
        if amount < 0:
            raise ValueError("Counters can only be incremented by non-negative amounts.")
        self._file.inc(self, values, amount)

    def key(self, values: tuple[str, ...]) -> str:
        """The series' key in the file, as ``mmap_key`` writes it (``json.dumps`` of the names,
        the labels sorted by name, the help): its constant parts written once, each value
        quoted as ``json.dumps`` quotes a string (a third of the instructions of a new series
        went to ``json.dumps``); a value that is not a string is written as ``labels()``
        writes it, by ``str``."""
        if len(values) != len(self._order):
            raise ValueError(f"{self._head}: {len(values)} label values for {len(self._order)}")
        labels = ", ".join(
            [n + _quote(str(values[i])) for n, i in zip(self._names, self._order, strict=True)]
        )
        return self._head + labels + self._tail
