"""Polling one configured source: fetch (or read), parse, and keep its state and health.

``poll_source`` returns every item the source holds now; which of them are new is decided by
the ``SeenStore`` (so a live-blog page that gained two posts yields two new ids).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alerts.clock import Clock
from alerts.ingest.errors import FetchError, IngestError, ParseError
from alerts.ingest.fetch import MAX_BYTES, Fetcher, FetchResult
from alerts.ingest.inbox import ItemSink, poll_inbox
from alerts.ingest.parse import Format, parse_bulletin
from alerts.ingest.settings import SourceSettings
from alerts.ingest.state import SourceState, SourceStateStore, after_failure, after_success
from alerts.masking import longest_first, mask
from alerts.models import Item

DEFAULT_MAX_ITEMS = 500
_FORMATS: dict[str, Format | None] = {
    "rss": "feed",
    "atom": "feed",
    "feed": None,
    "html": "html",
    "text": "text",
    "json": "json",
    "inbox": None,
}
_HINTS = {"html": "text/html", "text": "text/plain", "json": "application/json"}


def secret_pieces_of(src: SourceSettings) -> list[str]:
    """A source's secrets: its signing secret, and its URL's credentials and query string."""
    pieces = [src.secret.get_secret_value()] if src.secret else []
    parts = urlsplit(src.url or "")
    return pieces + [p for p in (parts.netloc.rpartition("@")[0], parts.query) if len(p) >= 4]


def max_items(src: SourceSettings) -> int:
    """The cap on items per poll (``options.max_items``, default 500)."""
    value: Any = src.options.get("max_items", DEFAULT_MAX_ITEMS)
    return value if isinstance(value, int) and value > 0 else DEFAULT_MAX_ITEMS


def poll_source(
    src: SourceSettings,
    *,
    fetcher: Fetcher,
    state: SourceStateStore,
    clock: Clock,
    on_items: ItemSink | None = None,
) -> list[Item]:
    """Poll a source if it is due; record health and backoff; re-raise its ``IngestError``.

    Returns [] when the source is not due yet or did not change (HTTP 304, same file).
    ``on_items`` receives the items before the new ETag (or the inbox move) is recorded, so a
    crash in between polls them again rather than losing them.
    """
    now = clock()
    current = state.get(src.id)
    if src.kind == "webhook" or not current.is_due(now):
        return []  # a webhook source pushes to the API; there is nothing to poll
    try:
        items, etag, modified = _read(src, current, fetcher, clock, on_items)
    except IngestError as exc:
        # The stored error reaches the console, the ops alert and logs: no URL token in it.
        error = mask(str(exc), longest_first(secret_pieces_of(src)))
        state.put(src.id, after_failure(current, now, interval=src.interval, error=error))
        raise
    items = items[: max_items(src)]
    if on_items is not None and src.kind != "inbox":  # the inbox hands over file by file
        on_items(items)
    state.put(
        src.id,
        after_success(
            current,
            now,
            source_id=src.id,
            interval=src.interval,
            jitter=src.jitter,
            items=len(items),
            etag=etag,
            last_modified=modified,
        ),
    )
    return items


def _read(
    src: SourceSettings,
    current: SourceState,
    fetcher: Fetcher,
    clock: Clock,
    on_items: ItemSink | None = None,
) -> tuple[list[Item], str | None, str | None]:
    """(items, etag, last_modified) for one poll, by kind and by url or path."""
    if src.kind == "inbox":
        if src.path is None:
            raise ParseError(src.id, None, "an inbox source needs a path")
        found = poll_inbox(
            src.path, source=src.id, clock=clock, on_items=on_items, language=src.language
        )
        return found, None, None
    if src.url:
        result = fetcher.fetch(
            src.url,
            allow_private=src.allow_private,
            etag=current.etag,
            last_modified=current.last_modified,
        )
        if result.not_modified:  # a 304 may omit the validators: keep the ones we sent
            return [], result.etag or current.etag, result.last_modified or current.last_modified
        return _parse_fetched(src, result, clock), result.etag, result.last_modified
    if src.path is not None:
        return _read_file(src, src.path, current, clock)
    raise ParseError(src.id, None, f"a {src.kind} source needs a url or a path")


def _parse_fetched(src: SourceSettings, result: FetchResult, clock: Clock) -> list[Item]:
    return parse_bulletin(
        result.content,
        source=src.id,
        content_type=result.content_type or _HINTS.get(src.kind),
        clock=clock,
        base_url=result.url,
        format=_FORMATS.get(src.kind),
        language=src.language,
    )


def _read_file(
    src: SourceSettings, path: Path, current: SourceState, clock: Clock
) -> tuple[list[Item], str | None, str | None]:
    """Read a local file; its size and mtime act as the ETag so an unchanged file is skipped."""
    try:
        info = path.stat()
        if info.st_size > MAX_BYTES:
            raise FetchError(str(path), f"file is over the {MAX_BYTES}-byte cap", retryable=False)
        tag = f"{info.st_size}-{info.st_mtime_ns}"
        if tag == current.etag:
            return [], tag, None
        data = path.read_bytes()
    except OSError as exc:
        raise FetchError(str(path), f"cannot read file: {exc.strerror}") from None
    items = parse_bulletin(
        data,
        source=src.id,
        content_type=_HINTS.get(src.kind),
        clock=clock,
        format=_FORMATS.get(src.kind),
        language=src.language,
    )
    return items, tag, None
