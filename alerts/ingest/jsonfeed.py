"""JSON input: JSON Feed 1.1, and our own push schema (see docs/ingest.md).

Our schema is an object ``{"items": [ITEM, ...]}``, a bare list of ITEMs, or one ITEM, where an
ITEM is ``{"title": str, "body"?: str, "summary"?: str, "url"?: str, "id"?: str,
"published"?: ISO 8601, "language"?: str}``. Unknown keys are errors.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TypedDict, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerts.ingest.clean import html_to_text
from alerts.ingest.errors import ParseError
from alerts.ingest.items import make_item
from alerts.models import Item

_JSONFEED_PREFIX = "https://jsonfeed.org/version/"


class PushedItem(BaseModel):
    """One item of our push schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    body: str = ""
    summary: str = ""
    url: str | None = None
    id: str | None = None
    published: datetime | None = None
    language: str | None = None


class PushedBatch(BaseModel):
    """The envelope of our push schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: list[PushedItem]


def load_json(text: str, source: str) -> Any:
    """Decode JSON text or raise ``ParseError`` at the offending line."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(source, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise ParseError(source, None, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit (int_max_str_digits)
        raise ParseError(source, None, f"invalid JSON: {str(exc).split(':')[0]}") from None


def parse_json(text: str, *, source: str, language: str | None = None) -> list[Item]:
    """Items of a JSON Feed or of our push schema; the pushed ones built with the language
    ``assign_languages(items, language)`` gives them (``language``: the source's configured
    one), which it then keeps: one ``Item`` validated per item, not two."""
    doc = load_json(text, source)
    if isinstance(doc, dict) and str(doc.get("version", "")).startswith(_JSONFEED_PREFIX):
        return _json_feed(doc, source)
    return _pushed(doc, source, language)


def _pushed(doc: Any, source: str, language: str | None = None) -> list[Item]:
    if isinstance(doc, list):
        doc = {"items": doc}
    elif isinstance(doc, dict) and "items" not in doc:
        doc = {"items": [doc]}
    plain = _plain_items(doc)
    if plain is not None:
        return [make_item(source, **f, labelled=True, configured=language) for f in plain]
    try:
        batch = PushedBatch.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "document"
        raise ParseError(source, None, f"{where}: {err['msg']}") from None
    return [
        make_item(
            source,
            title=p.title,
            body=p.body,
            summary=p.summary,
            url=p.url,
            guid=p.id,
            published=p.published,
            language=p.language,
            labelled=True,
            configured=language,
        )
        for p in batch.items
    ]


# ``PushedItem``'s string fields as ``make_item`` names them; ``published`` is not among them.
_PLAIN_FIELDS = {"title": "title", "body": "body", "summary": "summary", "url": "url"}
_PLAIN_FIELDS |= {"id": "guid", "language": "language"}
_OPTIONAL = frozenset({"url", "id", "language"})  # ``str | None`` in ``PushedItem``


class _Plain(TypedDict, total=False):
    """``make_item``'s keyword arguments from one plain pushed item."""

    title: str
    body: str
    summary: str
    url: str | None
    guid: str | None
    language: str | None


def _plain_items(doc: Any) -> list[_Plain] | None:
    """``make_item``'s arguments for each pushed item when the batch is one ``PushedBatch``
    takes as it is: only string fields (None where ``PushedItem`` allows it) and a printable,
    non-empty title. Else None, and pydantic validates it (its coercions and its messages).
    Nearly every upload is this shape; its validation and ``PushedItem`` objects are skipped."""
    if type(doc) is not dict or len(doc) != 1 or type(entries := doc.get("items")) is not list:
        return None
    out: list[_Plain] = []
    for entry in entries:
        if type(entry) is not dict:
            return None
        fields: dict[str, str | None] = {}
        for key, value in entry.items():
            name = _PLAIN_FIELDS.get(key)
            if name is None or not (type(value) is str or (value is None and key in _OPTIONAL)):
                return None
            fields[name] = value
        title = fields.get("title")
        # Printable: pydantic checks a constrained string's text (a lone surrogate fails).
        if not title or not title.isprintable():
            return None
        out.append(cast(_Plain, fields))  # each key and value type checked above
    return out


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _date(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _json_feed(doc: dict[str, Any], source: str) -> list[Item]:
    entries = doc.get("items")
    if not isinstance(entries, list):
        raise ParseError(source, None, "JSON Feed: 'items' must be a list")
    language = _str(doc.get("language")) or None
    return [_feed_item(e, source, language) for e in entries if isinstance(e, dict)]


def _feed_item(entry: dict[str, Any], source: str, language: str | None) -> Item:
    body = _str(entry.get("content_text")) or html_to_text(_str(entry.get("content_html")))
    raw_id = entry.get("id")
    return make_item(
        source,
        title=html_to_text(_str(entry.get("title")), paragraphs=False),
        body=body,
        summary=_str(entry.get("summary")),
        url=_str(entry.get("url")) or _str(entry.get("external_url")) or None,
        guid=str(raw_id)
        if isinstance(raw_id, str | int) and not isinstance(raw_id, bool)
        else None,
        published=_date(entry.get("date_published")),
        language=_str(entry.get("language")) or language,
    )
