"""Robustness over real feeds (../shared/corpora/feedparser) and naughty strings."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import feedparser
import pytest

from alerts.ingest import ParseError, parse_bulletin
from alerts.ingest.clean import squash
from alerts.models import Item
from tests.conftest import SHARED

CORPUS = SHARED / "corpora" / "feedparser"
BLNS = SHARED / "corpora" / "naughty-strings" / "blns.json"
_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG = re.compile(r"<[^>]*>")


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpora/feedparser is not present")
    return sorted(
        p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".md" and p.name != "LICENSE"
    )


def _assert_clean(item: Item) -> None:
    for name, value in item.model_dump().items():
        if isinstance(value, str):
            assert not _SURROGATE.search(value), name
            assert "\x00" not in value, name
        else:
            assert not isinstance(value, bytes | bytearray), name


def _expected_title(entry: dict) -> str:
    """feedparser's title as text: tags stripped unless the feed typed it as plain text."""
    title = entry.get("title", "")
    if entry.get("title_detail", {}).get("type") != "text/plain":
        title = html.unescape(_TAG.sub(" ", title))
    return squash(title)


def _agreement(path: Path, items: list[Item] | None, entries: list) -> list[str]:
    if not entries:
        return []
    if items is None or len(items) != len(entries):
        return [f"{path}: {0 if items is None else len(items)} items, feedparser {len(entries)}"]
    problems = []
    for item, entry in zip(items, entries, strict=True):
        expected = _expected_title(entry)
        if expected and re.sub(r"\W", "", item.title) != re.sub(r"\W", "", expected):
            problems.append(f"{path}: title {item.title!r} != {expected!r}")
        if entry.get("link") and item.url != squash(entry["link"]):
            problems.append(f"{path}: link {item.url!r} != {entry['link']!r}")
    return problems


def test_corpus_parses_and_agrees_with_feedparser() -> None:
    problems: list[str] = []
    total_items = 0
    for path in _corpus_files():
        data = path.read_bytes()
        try:
            items: list[Item] | None = parse_bulletin(data, source=path.name)
        except ParseError:
            items = None
        for item in items or []:
            _assert_clean(item)
        total_items += len(items or [])
        problems += _agreement(path, items, feedparser.parse(data).entries)
    assert problems == []
    assert total_items > 1000


def _blns() -> list[str]:
    if not BLNS.exists():
        pytest.skip("../shared/corpora/naughty-strings is not present")
    return [s for s in json.loads(BLNS.read_text(encoding="utf-8")) if isinstance(s, str)]


def test_naughty_strings_as_pushed_titles_and_bodies() -> None:
    for text in _blns():
        doc = json.dumps({"items": [{"title": text or "x", "body": text}]})
        try:
            items = parse_bulletin(doc.encode(), source="blns")
        except ParseError:
            continue
        assert len(items) == 1
        _assert_clean(items[0])


def test_naughty_strings_in_feeds_and_text_bulletins() -> None:
    for text in _blns():
        escaped = html.escape(text)
        rss = (
            f"<rss version='2.0'><channel><item><title>{escaped}</title>"
            f"<description>{escaped}</description><link>https://e.com/a</link></item>"
            "</channel></rss>"
        ).encode()
        bulletin = f"Headline about {text}\n{text}.\n".encode("utf-8", "surrogatepass")
        for data in (rss, bulletin):
            try:
                items = parse_bulletin(data, source="blns")
            except ParseError:
                continue
            for item in items:
                _assert_clean(item)
