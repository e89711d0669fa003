"""Log lines: ids as fields, and no secret in either format."""

from __future__ import annotations

import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from pythonjsonlogger.json import JsonFormatter

from alerts.notify.scrub import Redactor
from alerts.observe import logs as logs_module
from alerts.observe.logs import (
    TEXT_FORMAT,
    JsonLineFormatter,
    JsonLineStream,
    Scrubber,
    TextFormatter,
    configure_logging,
)
from alerts.observe.settings import LogSetup
from alerts.settings import load_settings

SLACK = "slack://T1234567/B7654321/abcdefghijklmnopqrstuvwx"
TOKEN = "api-token-do-not-log"


LOGGING_FLAGS = ("_srcfile", "logThreads", "logMultiprocessing")


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    flags = {name: getattr(logging, name) for name in LOGGING_FLAGS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)
    for name, value in flags.items():
        setattr(logging, name, value)


class _FixedTime(logging.Filter):
    """Every record at the same instant (two runs of the same lines compare equal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.created, record.msecs = 1_764_990_000.25, 250.0
        return True


def _lines(fmt: str, lean: bool, flags: dict[str, object]) -> str:
    out = io.StringIO()
    handler = configure_logging(LogSetup(format=fmt, secrets=(TOKEN,)), out)
    if not lean:
        for name, value in flags.items():
            setattr(logging, name, value)
    handler.addFilter(_FixedTime())
    log = logging.getLogger("alerts.test")
    ids = {"item_id": "c:1", "item_ids": ["c:1", "c:2"], "channel": "slack", "status": "sent"}
    log.info("delivery %s: %s", "sent", TOKEN, extra=ids)
    log.debug("not shown")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("send failed", extra=ids)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_lean_records_print_the_same_lines(fmt: str, root_restored: None) -> None:
    # logging's defaults (another test's set-up may have left this process lean).
    srcfile = os.path.normcase(logging.addLevelName.__code__.co_filename)
    stock = {"_srcfile": srcfile, "logThreads": True, "logMultiprocessing": True}
    full, lean = _lines(fmt, False, stock), _lines(fmt, True, stock)
    assert lean == full
    assert TOKEN not in lean and "item_id" in lean and "RuntimeError" in lean
    record = logging.getLogger("alerts.test").makeRecord(
        "alerts.test", logging.INFO, "(unknown file)", 0, "m", None, None
    )
    assert record.threadName is None and record.processName is None  # not computed
    assert logging._srcfile is None  # type: ignore[attr-defined]  # no findCaller


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_masked_and_ids_kept(fmt: str, root_restored: None) -> None:
    settings = load_settings(
        log_format=fmt,
        channels={"slack": SLACK},
        api_token=TOKEN,
        redis_url="redis://:hunter2pw@h/0",
    )
    out = io.StringIO()
    configure_logging(settings.log_setup(), out)
    log = logging.getLogger("alerts.test")
    ids = {"item_id": "c:1", "watch": "kaluga", "channel": "slack", "delivery_id": "d1"}
    log.warning("posting to %s with %s (redis hunter2pw)", SLACK, TOKEN, extra=ids)
    try:
        raise RuntimeError(f"boom at {SLACK}")
    except RuntimeError:
        log.exception("send failed", extra=ids)
    text = out.getvalue()
    for secret in ("abcdefghijklmnopqrstuvwx", "B7654321", TOKEN, "hunter2pw"):
        assert secret not in text
    lines = text.strip().splitlines()
    if fmt == "json":
        records = [json.loads(line) for line in lines]  # one object a line, traceback included
        assert len(records) == 2
        assert all(ids.items() <= r.items() for r in records)
        assert "RuntimeError" in records[1]["exc_info"]
    else:
        assert "item_id=c:1 watch=kaluga channel=slack delivery_id=d1" in lines[0]


def test_stray_prints_become_json_lines() -> None:
    raw = io.StringIO()
    stream = JsonLineStream(raw, Scrubber(["s3cr3tpart"]))
    stream.write('{"already": "json"}\nworker: Warm shutdown s3cr3tpart\n\npartial')
    lines = raw.getvalue().splitlines()
    assert lines[0] == '{"already": "json"}'
    assert json.loads(lines[1])["message"] == "worker: Warm shutdown ****"
    assert len(lines) == 2  # blank lines dropped, the partial line waits for its end


@pytest.mark.parametrize("ours", [TextFormatter(Scrubber()), JsonLineFormatter(Scrubber())])
def test_line_times_are_logging_s_own_whether_the_second_is_new_or_not(
    ours: logging.Formatter,
) -> None:
    stock = logging.Formatter()
    # Same second twice, the next second, back in time, a millisecond edge, a custom datefmt.
    for created in (1_764_990_000.25, 1_764_990_000.999, 1_764_990_001.0, 86_399.5, 0.5, -0.5):
        record = logging.LogRecord("alerts", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = created, float(int((created % 1) * 1000))
        assert ours.formatTime(record) == stock.formatTime(record)
        assert ours.formatTime(record, "%H:%M") == stock.formatTime(record, "%H:%M")


def _record(**extra: object) -> logging.LogRecord:
    record = logging.LogRecord("alerts.x", logging.INFO, __file__, 7, "sent %s", ("x",), None)
    record.created, record.msecs = 1_764_990_000.25, 250.0  # one instant for every record
    record.__dict__.update(extra)
    return record


def test_text_lines_are_logging_s_format_then_the_ids(monkeypatch) -> None:
    # Secrets other tests registered (a Slack URL's pieces, say) would mask the stock line's
    # words in ours only: the process-wide redactor starts empty here.
    monkeypatch.setattr(logs_module, "REDACTOR", Redactor())
    ours, stock = TextFormatter(Scrubber()), logging.Formatter(TEXT_FORMAT)
    assert ours.format(_record()) == stock.format(_record())
    assert ours.format(_record(item_id="c:1", status="sent")) == (
        f"{stock.format(_record())} item_id=c:1 status=sent"
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        traced = _record(exc_info=sys.exc_info(), stack_info="Stack (most recent call last):")
    assert ours.format(traced) == stock.format(_record(exc_info=traced.exc_info,
                                                       stack_info=traced.stack_info))  # fmt: skip


def test_json_values_are_scrubbed_wherever_the_secret_is() -> None:
    ours = JsonLineFormatter(Scrubber([TOKEN]))
    clean = json.loads(ours.format(_record(item_id="c:1", item_ids=["c:1"])))
    assert clean["item_id"] == "c:1" and clean["item_ids"] == ["c:1"]
    leaky = _record(item_id=f"c:{TOKEN}", item_ids=["c:1", TOKEN], watch={"w": TOKEN})
    line = json.loads(ours.format(leaky))
    assert line["item_id"] == "c:****" and line["item_ids"] == ["c:1", "****"]
    assert line["watch"] == {"w": "****"} and line["message"] == "sent x"


def test_json_lines_are_what_python_json_logger_writes() -> None:
    ours, stock = JsonLineFormatter(Scrubber()), JsonFormatter()
    data = {
        "message": "sent ☃",
        "when": datetime(2026, 12, 6, tzinfo=UTC),
        "error": RuntimeError("boom"),
        "ids": ["c:1", 2, None],
        "nested": {"a": (1.5, True)},
    }
    assert ours.jsonify_log_record(data) == stock.jsonify_log_record(data)


@pytest.mark.parametrize(
    "extra",
    [
        {"item_ids": ["c:1", "c:2"]},  # strings in a list: checked with the rest
        {"item_ids": ["c:1", TOKEN]},  # a secret in a list
        {"watch": {"w": TOKEN}, "ok": True, "took": 0.5},  # other values, one by one
        {"item_ids": [1, f"x{TOKEN}"], "n": 3, "none": None},  # a list not all strings
        {"item_id": TOKEN},
    ],
)
def test_json_scrubbing_skips_nothing_it_would_mask(extra: dict[str, object]) -> None:
    ours = JsonLineFormatter(Scrubber([TOKEN]))
    data = {"message": "sent x", "process": 7, **extra}
    assert ours.process_log_record(dict(data)) == {k: ours._clean(v) for k, v in data.items()}
    assert TOKEN not in ours.format(_record(**extra))


JSON_RECORDS = [  # (msg, args, extra): the service's lines and the odd ones
    ("delivery %s: %s", ("sent", "sent"), {"item_id": "i1", "watch": "w", "channel": "slack",
                                           "delivery_id": "d" * 32, "status": "sent"}),
    ("bulletin from %s: %d new items", ("api", 2), {"source": "api", "bulletin_id": "b1",
                                                    "item_ids": ["i1", "i2"]}),
    ("plain", (), {}),
    ({"event": "a dict message", "name": "renamed", "n": 1}, (), {"item_id": "i"}),
    ("odd extras", (), {"_hidden": 1, "time": "an extra named as a renamed field", 7: "int key",
                        "nested": {"a": [1, 2.5, None]}}),
    ("a value json cannot encode", (), {"when": datetime(2026, 12, 6, tzinfo=UTC)}),
]  # fmt: skip


@pytest.mark.parametrize(("msg", "args", "extra"), JSON_RECORDS)
def test_json_fields_are_python_json_logger_s_own(
    msg: object, args: tuple, extra: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No secret another test registered (the notifiers' registry is the process's): ours scrubs.
    monkeypatch.setattr(logs_module, "REDACTOR", Redactor())
    ours = JsonLineFormatter(Scrubber())
    stock = JsonFormatter(list(logs_module.JSON_FIELDS), rename_fields=dict(logs_module._RENAMED))
    record = _record()
    record.__dict__.update(extra)
    record.msg, record.args = msg, args
    for message in ({}, {"exc_info": "a trace"}, {"name": "x", "other": 2}):
        theirs: dict[str, object] = {}
        stock.add_fields(theirs, record, message)
        mine: dict[str, object] = {}
        ours.add_fields(mine, record, message)
        assert list(mine.items()) == list(theirs.items())
    assert ours.format(record) == stock.format(record)  # the whole line, byte for byte
