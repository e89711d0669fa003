"""Pushed items read without pydantic (``jsonfeed._plain_items``) are the items pydantic reads.

Each document below goes through ``_pushed`` twice: as it runs, and with the plain reading
turned off (``PushedBatch`` validates every item). Both give the same items, or the same error.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest

from alerts.ingest import jsonfeed
from alerts.ingest.errors import ParseError
from alerts.ingest.jsonfeed import PushedBatch, _plain_items, _pushed
from tests.conftest import SHARED

BLNS = SHARED / "corpora" / "naughty-strings" / "blns.json"

DOCS: list[tuple[Any, bool]] = [  # each document, and whether it is read plainly
    ({"items": [{"title": "Port reopens", "id": "wire-1234"}]}, True),  # the API's usual upload
    (
        {
            "items": [
                {"title": "T", "body": "b", "summary": "s", "url": "https://x.example/a?utm_x=1"}
            ]
        },
        True,
    ),
    (
        {"items": [{"title": "T", "url": None, "id": None, "language": None}]},
        True,
    ),  # optional as null
    ({"items": [{"title": "T", "language": "en-GB", "id": "https://x.example/p"}]}, True),
    ({"items": [{"title": "Київ", "body": "Текст\r\nрядок\x00"}]}, True),  # cleaned by make_item
    (
        {"items": [{"title": "T", "body": "\ud800 lone surrogate"}]},
        True,
    ),  # pydantic takes it: so do we
    ({"items": [{"title": "\ud800 in a title"}]}, False),  # pydantic refuses it: not read plainly
    ({"items": [{"title": "two\nlines"}]}, False),  # not printable: pydantic reads it (the same)
    ({"items": [{"title": "  "}]}, True),
    ({"items": [{"title": ""}]}, False),  # too short
    ({"items": [{"body": "no title"}]}, False),
    ({"items": [{"title": None}]}, False),
    ({"items": [{"title": "T", "body": None}]}, False),  # body is no optional field
    ({"items": [{"title": "T", "summary": 3}]}, False),
    ({"items": [{"title": "T", "colour": "red"}]}, False),  # unknown key
    # pydantic parses it
    ({"items": [{"title": "T", "published": "2026-03-14T10:42:00+01:00"}]}, False),
    ({"items": [{"title": "T"}, "not an object"]}, False),
    ({"items": [{"title": "T"}], "extra": 1}, False),
    ({"items": []}, True),
    ({"items": "no list"}, False),
    ({"items": [{"title": 5}]}, False),
]


def both(doc: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """``_pushed(doc)`` as it runs, and with pydantic validating every item."""

    def run() -> object:
        try:
            return _pushed(json.loads(json.dumps(doc)), "src")
        except ParseError as exc:
            return str(exc)

    fast = run()
    with monkeypatch.context() as m:
        m.setattr(jsonfeed, "_plain_items", lambda doc: None)
        slow = run()
    return fast, slow


@pytest.mark.parametrize(("doc", "plain"), DOCS)
def test_plain_items_are_pydantics_items(
    doc: Any, plain: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same items either way; and the shapes meant to skip pydantic do skip it."""
    fast, slow = both(doc, monkeypatch)
    assert fast == slow
    assert read_plainly(doc, monkeypatch) == plain


def read_plainly(doc: Any, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Whether ``_pushed`` reads the document without pydantic (no ``PushedBatch``)."""
    validated: list[Any] = []

    class Batch:
        @staticmethod
        def model_validate(wrapped: Any) -> PushedBatch:
            validated.append(wrapped)
            return PushedBatch.model_validate(wrapped)

    with monkeypatch.context() as m:
        m.setattr(jsonfeed, "PushedBatch", Batch)
        with contextlib.suppress(ParseError):
            _pushed(json.loads(json.dumps(doc)), "src")
    return not validated


def test_the_usual_upload_is_read_plainly() -> None:
    """The shape every ``alerts ingest`` and bench POST has does skip pydantic."""
    assert _plain_items(DOCS[0][0]) == [{"title": "Port reopens", "guid": "wire-1234"}]


def test_naughty_strings_read_plainly_as_pydantic_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings is not present")
    texts = [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if isinstance(s, str)]
    for text in texts:
        doc = {"items": [{"title": text or "x", "body": text, "id": text, "language": text[:8]}]}
        fast, slow = both(doc, monkeypatch)
        assert fast == slow, text
