"""``parse_bulletin``: detect the format from the content, then hand it to its parser."""

from __future__ import annotations

import re
from typing import Literal

from alerts.clock import Clock, system_clock
from alerts.ingest.clean import charset_from_content_type, decode_bytes
from alerts.ingest.errors import ParseError
from alerts.ingest.feeds import parse_feed
from alerts.ingest.html import parse_html
from alerts.ingest.items import make_item
from alerts.ingest.jsonfeed import parse_json
from alerts.ingest.language import assign_languages
from alerts.ingest.plaintext import block_body, split_bulletin
from alerts.models import Item

Format = Literal["text", "feed", "json", "html"]
_FEED_ROOT = re.compile(r"<(?:[a-z0-9_-]+:)?(rss|feed|rdf|channel)\b", re.I)
_HTML_ROOT = re.compile(
    r"<(!doctype\s+html|html|head|body|article|main|div|p|section|h[1-6])\b", re.I
)
_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_JSON_ARRAY = re.compile(r'\[\s*(?:[\[{"\]\d-]|true|false|null)')
_FIRST_TAG = re.compile(r"<(?![?!])([a-z0-9_:.-]+)", re.I)


SNIFF_BYTES = 8192  # enough of a bulletin to tell its format


def sniff_format(data: bytes, content_type: str | None = None) -> Format:
    """The format of a raw bulletin, from its first bytes (what the metrics label it)."""
    return detect_format(
        decode_bytes(data[:SNIFF_BYTES], charset_from_content_type(content_type)), content_type
    )


def detect_format(text: str, content_type: str | None = None) -> Format:
    """The format of a decoded document; the content decides, the content type breaks ties."""
    if text.startswith("{"):  # as below (no comment or space before it): every JSON upload
        return "json"
    head = _COMMENT.sub("", text[:8192]).lstrip()[:4096]
    hint = (content_type or "").split(";")[0].strip().lower()
    if head.startswith("{") or _JSON_ARRAY.match(head):
        return "json"
    if not head.startswith("<"):
        return "text"
    first = _FIRST_TAG.search(head)
    if first and _FEED_ROOT.match(first.group(0)):
        return "feed"
    if _HTML_ROOT.search(head[:1024]) or "html" in hint:
        return "html"
    # Other XML, or a prolog longer than the head: feedparser decides.
    return "feed"


def parse_bulletin(
    data: bytes,
    *,
    source: str,
    content_type: str | None = None,
    clock: Clock = system_clock,
    base_url: str | None = None,
    format: Format | None = None,
    language: str | None = None,
) -> list[Item]:
    """Parse one bulletin (text, RSS/Atom/RDF, JSON Feed or our JSON, HTML) into items.

    ``format`` forces a parser (a source configured as one kind); otherwise it is detected.
    Every item gets a language: ``language`` (the source's configured one) when given, else
    the one the document declares, else the one detected in its text.
    """
    items, _ = parse_bulletin_as(
        data,
        source=source,
        content_type=content_type,
        clock=clock,
        base_url=base_url,
        format=format,
        language=language,
    )
    return items


def parse_bulletin_as(
    data: bytes,
    *,
    source: str,
    content_type: str | None = None,
    clock: Clock = system_clock,
    base_url: str | None = None,
    format: Format | None = None,
    language: str | None = None,
) -> tuple[list[Item], Format]:
    """``parse_bulletin``, and the format it parsed as: what the metrics and the API's task
    message carry, without a second decode and sniff of the body (``sniff_format``)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_bulletin takes bytes")
    data = bytes(data)
    text = decode_bytes(data, charset_from_content_type(content_type))
    if not text.strip():
        raise ParseError(source, None, "empty bulletin")
    kind = format or detect_format(text, content_type)
    items = _parse(
        kind, data, text, source=source, base_url=base_url, clock=clock, language=language
    )
    return assign_languages(items, language), kind


def _parse(
    kind: Format,
    data: bytes,
    text: str,
    *,
    source: str,
    base_url: str | None,
    clock: Clock,
    language: str | None,
) -> list[Item]:
    """The items of a decoded document, by its format (declared languages only; pushed JSON
    items with the language ``assign_languages`` gives them, which it then keeps)."""
    if kind == "feed":
        return parse_feed(data, source=source, base_url=base_url)
    if kind == "json":
        return parse_json(text, source=source, language=language)
    if kind == "html":
        return parse_html(text, source=source, base_url=base_url, today=clock())
    return parse_text(text, source=source)


def parse_text(text: str, *, source: str) -> list[Item]:
    """Items of a decoded plain-text bulletin."""
    return [make_item(source, title=b.title, body=block_body(b)) for b in split_bulletin(text)]
