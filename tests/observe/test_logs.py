"""Log lines: ids as fields, and no secret in either format."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from alerts.observe.logs import JsonLineStream, Scrubber, TextFormatter, configure_logging
from alerts.settings import load_settings

SLACK = "slack://T1234567/B7654321/abcdefghijklmnopqrstuvwx"
TOKEN = "api-token-do-not-log"


@pytest.fixture
def root_restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.captureWarnings(False)


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


def test_text_line_times_are_logging_s_own_whether_the_second_is_new_or_not() -> None:
    ours, stock = TextFormatter(Scrubber()), logging.Formatter()
    # Same second twice, the next second, back in time, a millisecond edge, a custom datefmt.
    for created in (1_764_990_000.25, 1_764_990_000.999, 1_764_990_001.0, 86_399.5, 0.5, -0.5):
        record = logging.LogRecord("alerts", logging.INFO, __file__, 1, "m", None, None)
        record.created, record.msecs = created, float(int((created % 1) * 1000))
        assert ours.formatTime(record) == stock.formatTime(record)
        assert ours.formatTime(record, "%H:%M") == stock.formatTime(record, "%H:%M")
