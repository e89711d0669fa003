"""RSS, Atom and RDF through feedparser, which is only ever given bytes.

Given a string, feedparser would open a URL or a file itself; given bytes it parses them and
nothing else. HTML in titles, summaries and content is reduced to plain text.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from alerts.ingest.clean import html_to_text
from alerts.ingest.errors import ParseError
from alerts.ingest.items import make_item
from alerts.models import Item

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ENTITY_DECL = re.compile(rb"<!ENTITY\s+(%\s*)?([\w.:-]+)\s+(?:\"([^\"]*)\"|'([^']*)'|[^>]*)", re.I)
MAX_ENTITY_EXPANSION = 1024 * 1024
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,24}));")


def _safe_char_ref(m: re.Match[bytes]) -> bytes:
    """A numeric reference to a surrogate, NUL or beyond Unicode becomes U+FFFD."""
    code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
    bad = code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF
    return b"&#xFFFD;" if bad else m.group(0)


def neutralise_char_refs(data: bytes) -> bytes:
    """Replace character references that crash feedparser's loose parser."""
    return _CHAR_REF.sub(_safe_char_ref, data) if b"&#" in data else data


def check_entities(data: bytes, source: str) -> None:
    """Refuse documents whose declared entities would expand past a bound (quadratic blowup).

    feedparser already drops external and nested entity declarations; a big entity used many
    times is the remaining way to make a small feed huge.
    """
    if b"<!ENTITY" not in data and b"<!entity" not in data.lower():
        return
    total = 0
    for m in _ENTITY_DECL.finditer(data):
        value = m.group(3) if m.group(3) is not None else (m.group(4) or b"")
        total += len(value) * data.count(b"&" + m.group(2) + b";")
    if total > MAX_ENTITY_EXPANSION:
        raise ParseError(source, None, "entity declarations would expand past 1 MiB")


def _text(detail: Any, value: Any, *, paragraphs: bool) -> str:
    """Plain text of a feedparser text construct: ``value``, typed by its ``*_detail``."""
    if not isinstance(value, str):
        return ""
    kind = detail.get("type", "text/html") if isinstance(detail, dict) else "text/html"
    if kind in _HTML_TYPES or ("<" in value and kind != "text/plain"):
        return html_to_text(value, paragraphs=paragraphs)
    return value if paragraphs else " ".join(value.split())


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, key)  # plain lookup: no feedparser key aliasing (and warning)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, OSError):
                return None
    return None


def _body(entry: Any) -> tuple[str, str]:
    """(body, summary): the full content when present, the summary otherwise."""
    summary = _text(entry.get("summary_detail"), entry.get("summary", ""), paragraphs=True)
    contents = entry.get("content") or []
    body = "\n\n".join(
        t for t in (_text(c, c.get("value", ""), paragraphs=True) for c in contents) if t
    )
    return (body, summary) if body else (summary, "")


def _entry_language(entry: Any) -> str | None:
    """The entry's own language: feedparser keeps an entry's ``xml:lang`` on its text parts."""
    for part in (entry, entry.get("title_detail"), entry.get("summary_detail")):
        value = part.get("language") if isinstance(part, dict) else None
        if isinstance(value, str) and value:
            return value
    return None


def entry_item(source: str, entry: Any, language: str | None) -> Item:
    """One feed entry as an Item."""
    body, summary = _body(entry)
    link = entry.get("link")
    return make_item(
        source,
        title=_text(entry.get("title_detail"), entry.get("title", ""), paragraphs=False),
        body=body,
        summary=summary,
        url=link if isinstance(link, str) else None,
        guid=entry.get("id") if isinstance(entry.get("id"), str) else None,
        published=_when(entry),
        language=_entry_language(entry) or language,
    )


def _failure_line(result: Any) -> int | None:
    exc = result.get("bozo_exception")
    getter = getattr(exc, "getLineNumber", None)
    try:
        return int(getter()) if getter else None
    except (TypeError, ValueError):
        return None


def parse_feed(data: bytes, *, source: str, base_url: str | None = None) -> list[Item]:
    """Items of an RSS/Atom/RDF document; ``ParseError`` when it is not a feed at all."""
    check_entities(data, source)
    headers = {"content-location": base_url} if base_url else {}
    try:
        result = feedparser.parse(neutralise_char_refs(data), response_headers=headers)
    except Exception as exc:  # feedparser's loose parser raises assorted errors on junk
        raise ParseError(source, None, f"cannot read feed: {type(exc).__name__}") from None
    if not result.entries and not result.get("version"):
        reason = result.get("bozo_exception") or "not an RSS, Atom or RDF feed"
        raise ParseError(source, _failure_line(result), f"cannot read feed: {reason}")
    language = result.feed.get("language")
    return [
        entry_item(source, e, language if isinstance(language, str) else None)
        for e in result.entries
    ]
