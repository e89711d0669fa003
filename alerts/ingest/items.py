"""Building items: every parser ends here, so hygiene and ids happen in one place."""

from __future__ import annotations

from datetime import UTC, datetime

from alerts.ingest.clean import clean_text, squash
from alerts.ingest.ids import item_id
from alerts.ingest.language import LanguageSource, label_of, normalise_language
from alerts.models import Item

_UNTITLED = "(untitled)"


def fallback_title(body: str) -> str:
    """A title for an item that has none: the start of its body, else '(untitled)'."""
    first = squash(body.split("\n", 1)[0]) if body else ""
    if not first:
        return _UNTITLED
    return first if len(first) <= 120 else first[:120].rstrip() + "…"


def _url(url: str | None) -> str | None:
    if not url:
        return None
    url = squash(clean_text(url))
    return url or None


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_item(
    source: str,
    *,
    title: str,
    body: str = "",
    summary: str = "",
    url: str | None = None,
    guid: str | None = None,
    published: datetime | None = None,
    language: str | None = None,
    labelled: bool = False,
    configured: str | None = None,
) -> Item:
    """A clean ``Item`` with its stable id; text must already be plain (not HTML).

    ``labelled``: built with the language ``assign_languages(items, configured)`` would give
    it (``configured``: the source's language), which then keeps it as it is: one ``Item``
    validated instead of two (a pushed bulletin's items, on the API's event loop)."""
    body = clean_text(body).strip()
    summary = clean_text(summary).strip()
    title = squash(clean_text(title)) or fallback_title(body or summary)
    link = _url(url)
    lang = normalise_language(language)
    how: LanguageSource | None = "declared" if lang else None
    shown = summary if summary != body else ""
    if labelled:
        lang, how = label_of(lang, normalise_language(configured), title, shown, body)
    guid = clean_text(guid) if guid else None
    return Item(
        id=item_id(source, guid=guid, url=link, title=title, body=body or summary),
        source=source,
        title=title,
        body=body,
        summary=shown,
        url=link,
        published=_aware(published),
        language=lang,
        language_source=how,
    )
