"""Seeded mutation fuzzing of parse_bulletin: items or a ParseError, never anything else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.ingest import ParseError, parse_bulletin

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = sorted(p.read_bytes() for p in FIXTURES.iterdir() if p.is_file())
TOKENS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"]]>",
    b"<![CDATA[",
    b"<!--",
    b"-->",
    b'<!ENTITY x "y">',
    b"<!DOCTYPE html>",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\n\n",
    b"\xe2\x80\xae",
    b"\xed\xa0\x80",
    b'{"items":',
    b"[",
    b"}",
    b'"',
    b"<time>",
    b"</p>",
    b"<h2>",
    b"\xc3",
    b"<?xml version='1.0' encoding='utf-16'?>",
    b"\t",
    b"?",
    b".",
]
_SURROGATE = re.compile("[\ud800-\udfff]")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A fixture with a few random edits: cut, delete, insert bytes or tokens, duplicate."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["cut", "delete", "bytes", "token", "dup", "flip"]))
        if action == "cut":
            del data[at:]
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "bytes":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "token":
            data[at:at] = draw(st.sampled_from(TOKENS))
        elif action == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(2, 20))
        elif data:
            i = min(at, len(data) - 1)
            data[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(data)


def _check(data: bytes) -> None:
    try:
        items = parse_bulletin(data, source="fuzz")
    except ParseError:
        return
    for item in items:
        assert item.title
        for text in (item.title, item.body, item.summary, item.url or ""):
            assert not _SURROGATE.search(text) and "\x00" not in text


@pytest.mark.timeout(120)
@settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_mutated_fixtures_never_crash(data: bytes) -> None:
    _check(data)


@pytest.mark.timeout(60)
@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    _check(text.encode("utf-8", "surrogatepass"))
