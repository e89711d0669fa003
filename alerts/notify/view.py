"""What a message says, independent of the channel: a pure view of an Alert or a Digest.

Templates only lay these values out; every string here is still untrusted text, escaped by the
template environment of each channel type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from urllib.parse import quote, quote_plus, urlsplit

from alerts.models import Alert, Digest, DigestEntry, Hit

_SPACE = re.compile(r"\s+")
_SNIPPET_FIELDS = ("body", "summary")
_REASONS = {
    "digest": "Digest",
    "throttled": "Held back by the throttle",
    "quiet_hours": "Held during quiet hours",
}


# Segment and AlertView are made for every alert: as tuples, each in one step, where a frozen
# dataclass set every field through object.__setattr__ (a sixth of an alert's view and text).
# Immutable all the same; the rarer digest views stay dataclasses.
class Segment(NamedTuple):
    """A piece of text; ``hit`` pieces are the matched terms, to be highlighted."""

    text: str
    hit: bool = False


class AlertView(NamedTuple):
    """Everything an alert template shows."""

    watch: str
    watch_name: str
    title: str
    url: str | None
    snippet: tuple[Segment, ...]
    terms: tuple[str, ...]
    why: str
    source: str
    published: str
    link: str | None = None  # the alert's console page ("why this matched · mute")
    language: str = ""  # 'uk', or 'uk (detected)' when ingest guessed it; '' when unknown


@dataclass(frozen=True)
class StoryView:
    """One story of a digest: its alerts and how many alerts it gathered."""

    story: str
    count: int
    alerts: tuple[AlertView, ...]
    more: int = 0  # entries of this story not listed


@dataclass(frozen=True)
class DigestView:
    """Everything a digest template shows."""

    watch: str
    watch_name: str
    channel: str
    total: int
    reason: str
    reason_text: str
    stories: tuple[StoryView, ...]
    story_count: int
    more_stories: int = 0  # stories not listed (Slack caps a message at 40,000 characters)
    more_alerts: int = 0  # alerts in those stories


def squash(text: str) -> str:
    """``_SPACE.sub(" ", text).strip()``: whitespace runs as one space, none at the ends.

    str.split and the regex's ``\\s`` agree on every code point (a test holds them equal); the
    split is a C loop, where the regex cost more than the rest of an alert's view.
    """
    if _single_spaced(text):
        return text.strip()
    return " ".join(text.split())


def collapse(text: str) -> str:
    """``_SPACE.sub(" ", text)``: whitespace runs as one space, a run at either end kept as one."""
    if _single_spaced(text):
        return text
    inner = " ".join(text.split())
    if not inner:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")


def _single_spaced(text: str) -> bool:
    """True when every whitespace run is one ASCII space (the usual text: two quick scans, no
    copy). A printable text's only whitespace is the ASCII space."""
    return text.isprintable() and "  " not in text


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with no spaces, quotes, pipes or angle brackets; else None (no link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")


def highlight(text: str, spans: list[tuple[int, int]]) -> list[Segment]:
    """Split ``text`` into plain and hit segments (never empty); overlapping spans are merged."""
    out: list[Segment] = []
    pos = 0
    for start, end in _merge(spans, len(text)):
        if start > pos:
            out.append(_segment(Segment, (text[pos:start], False)))
        out.append(_segment(Segment, (text[start:end], True)))
        pos = end
    if pos < len(text):
        out.append(_segment(Segment, (text[pos:], False)))
    return out


# ``Segment(text, hit)`` made by the tuple's own C constructor: NamedTuple's ``__new__`` is a
# Python function around this same call (both fields given, so no default is involved).
_segment = tuple.__new__


def _merge(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        start, end = max(0, start), min(size, end)
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def snippet(text: str, hits: tuple[Hit, ...], width: int) -> tuple[Segment, ...]:
    """A window of about ``width`` characters around the first hit, cut between words."""
    spans = [(h.start, h.end) for h in hits if text[h.start : h.end] == h.text]
    first = min(spans, default=(0, 0))
    start = _word_start(text, max(0, first[0] - width // 3), first[0])
    end = _word_end(text, min(len(text), start + width), first[1])
    inside = [
        (max(s, start) - start, min(e, end) - start) for s, e in spans if s < end and e > start
    ]
    window = text[start:end]
    segments = highlight(window, inside)
    # A single-spaced window (the usual) has only single-spaced pieces: none to collapse.
    # Collapsing leaves none empty (a piece is never empty, a run becomes one space).
    if not _single_spaced(window):
        segments = [Segment(collapse(piece), hit) for piece, hit in segments]
    if start > 0:
        segments.insert(0, _CUT_BEFORE)
    if end < len(text):
        segments.append(_CUT_AFTER)
    return tuple(segments)


_WORD_SLACK = 20  # how far a cut may move to fall between words
_CUT_BEFORE, _CUT_AFTER = Segment("… "), Segment(" …")  # frozen: shared by every snippet


def _word_start(text: str, pos: int, limit: int) -> int:
    """``pos``, or the start of the next word when ``pos`` is inside one (never past ``limit``)."""
    if pos == 0 or text[pos - 1].isspace():
        return pos
    space = _SPACE.search(text, pos, min(limit, pos + _WORD_SLACK))
    return space.end() if space else pos


def _word_end(text: str, pos: int, limit: int) -> int:
    """``pos``, or the end of the previous word when ``pos`` is in one (not before ``limit``)."""
    if pos >= len(text) or text[pos].isspace():
        return pos
    for cut in range(pos, max(limit, pos - _WORD_SLACK), -1):
        if text[cut - 1].isspace():
            return len(text[:cut].rstrip())
    return pos


def why(alert: Alert) -> str:
    """One line saying why the watch fired: the clause and where each term was found."""
    found: list[str] = []
    for hit in alert.hits:
        entry = f"{hit.found_as()} in {hit.field}" if hit.how else f"“{hit.text}” in {hit.field}"
        if entry not in found:
            found.append(entry)
    where = ", ".join(found) if found else "no term positions recorded"
    clause = squash(alert.clause)
    return f"Matched {clause}: {where}" if clause else f"Matched {where}"


def console_link(console_url: str | None, alert: Alert) -> str | None:
    """The alert's page in the console, when the console's URL is configured."""
    if not console_url:
        return None
    # urlencode's own output for these two pairs, without its generic per-pair work
    query = f"watch={quote_plus(alert.watch)}&item={quote_plus(alert.item.id)}"
    return f"{console_url}/console/alert?{query}"


def alert_view(alert: Alert, *, width: int = 280, console_url: str | None = None) -> AlertView:
    """The view of one alert."""
    item, found = alert.item, alert.hits
    # a loop and list comprehensions, not generators (each resumed once per value)
    field = ""
    for hit in found:
        if hit.field in _SNIPPET_FIELDS:
            field = hit.field
            break
    field = field or ("body" if item.body else "summary")
    hits = tuple([h for h in found if h.field == field])
    terms = tuple(dict.fromkeys([h.term for h in found]))  # as the watch's author wrote them
    return AlertView(
        watch=alert.watch,
        watch_name=alert.watch_name,
        title=squash(item.title) or "(no headline)",
        url=safe_url(item.url),
        snippet=snippet(item.field_text(field), hits, width),
        terms=terms,
        why=why(alert),
        source=item.source,
        published=format_time(item.published),
        link=console_link(console_url, alert),
        language=language_label(alert),
    )


def language_label(alert: Alert) -> str:
    """The item's language as an alert shows it: 'uk', 'uk (detected)', or ''."""
    item = alert.item
    if not item.language:
        return ""
    return f"{item.language} (detected)" if item.language_source == "detected" else item.language


def as_utc(when: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is taken as UTC."""
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(when: datetime | None, *, seconds: bool = False) -> str:
    """``2026-11-25 09:40 UTC`` (``09:40:12 UTC`` with seconds), or ``time unknown``."""
    if when is None:
        return "time unknown"
    t = when if when.tzinfo is UTC else as_utc(when)
    if t.year < 1000:  # strftime's own text: how it writes such a year depends on the platform
        return t.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")
    # strftime's text, printf-style: one C call (strftime, isoformat or an f-string of five
    # fields cost half as much again, more than the rest of the alert's time line)
    if seconds:
        return _SECONDS % (t.year, t.month, t.day, t.hour, t.minute, t.second)
    return _MINUTES % (t.year, t.month, t.day, t.hour, t.minute)


_MINUTES, _SECONDS = "%d-%02d-%02d %02d:%02d UTC", "%d-%02d-%02d %02d:%02d:%02d UTC"


def digest_view(
    digest: Digest, *, width: int = 160, max_stories: int = 25, max_per_story: int = 3
) -> DigestView:
    """The view of a digest, entries grouped by story in first-seen order, long lists capped."""
    groups: dict[str, list[DigestEntry]] = {}
    for entry in digest.entries:
        groups.setdefault(entry.story, []).append(entry)
    shown = list(groups.items())[:max_stories]
    hidden = list(groups.values())[max_stories:]
    stories = tuple(
        StoryView(
            story=story,
            count=sum(e.count for e in entries),
            alerts=tuple(alert_view(e.alert, width=width) for e in entries[:max_per_story]),
            more=max(0, len(entries) - max_per_story),
        )
        for story, entries in shown
    )
    return DigestView(
        watch=digest.watch,
        watch_name=digest.watch_name,
        channel=digest.channel,
        total=digest.total,
        reason=digest.reason,
        reason_text=_REASONS.get(digest.reason, digest.reason),
        stories=stories,
        story_count=len(groups),
        more_stories=len(hidden),
        more_alerts=sum(e.count for entries in hidden for e in entries),
    )
