"""Small bulletins of every kind we ingest, built from (title, body) pairs, for language tests.

``declared`` puts a language where each format declares one (RSS ``<language>``, Atom
``xml:lang``, RDF ``dc:language``, HTML ``lang``, JSON ``language``); plain text has no place
for it, so there it is ignored.
"""

from __future__ import annotations

import json
from html import escape

KINDS = ("text", "rss", "atom", "rdf", "html", "json", "jsonfeed")
DECLARING_KINDS = tuple(k for k in KINDS if k != "text")
Story = tuple[str, str]


def _text(stories: list[Story], declared: str | None) -> str:
    return "".join(f"{title}\n\n{body}\n\n" for title, body in stories)


def _rss(stories: list[Story], declared: str | None) -> str:
    lang = f"<language>{declared}</language>" if declared else ""
    items = "".join(
        f"<item><title>{escape(t)}</title><description>{escape(b)}</description>"
        f"<guid isPermaLink='false'>s{i}</guid></item>"
        for i, (t, b) in enumerate(stories)
    )
    channel = f"<channel><title>News</title>{lang}{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def _atom(stories: list[Story], declared: str | None) -> str:
    lang = f' xml:lang="{declared}"' if declared else ""
    entries = "".join(
        f"<entry><id>urn:s{i}</id><title>{escape(t)}</title><summary>{escape(b)}</summary>"
        "<updated>2026-03-14T10:00:00Z</updated></entry>"
        for i, (t, b) in enumerate(stories)
    )
    return (
        f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"{lang}><title>News</title>'
        f"<id>urn:feed</id><updated>2026-03-14T10:00:00Z</updated>{entries}</feed>"
    )


def _rdf(stories: list[Story], declared: str | None) -> str:
    lang = f"<dc:language>{declared}</dc:language>" if declared else ""
    items = "".join(
        f'<item rdf:about="https://news.example/{i}"><title>{escape(t)}</title>'
        f"<link>https://news.example/{i}</link><description>{escape(b)}</description></item>"
        for i, (t, b) in enumerate(stories)
    )
    return (
        '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        ' xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<channel rdf:about="https://news.example/"><title>News</title>{lang}</channel>'
        f"{items}</rdf:RDF>"
    )


def _html(stories: list[Story], declared: str | None) -> str:
    lang = f' lang="{declared}"' if declared else ""
    posts = "".join(
        f'<article id="p{i}"><h2>{escape(t)}</h2><p>{escape(b)}</p></article>'
        for i, (t, b) in enumerate(stories)
    )
    head = "<head><title>Live</title></head>"
    return f"<!doctype html><html{lang}>{head}<body><main>{posts}</main></body></html>"


def _json(stories: list[Story], declared: str | None) -> str:
    lang = {"language": declared} if declared else {}
    items = [{"title": t, "body": b, "id": f"s{i}", **lang} for i, (t, b) in enumerate(stories)]
    return json.dumps({"items": items}, ensure_ascii=False)


def _jsonfeed(stories: list[Story], declared: str | None) -> str:
    lang = {"language": declared} if declared else {}
    items = [{"id": f"s{i}", "title": t, "content_text": b} for i, (t, b) in enumerate(stories)]
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "News", **lang, "items": items}
    return json.dumps(feed, ensure_ascii=False)


_BUILDERS = {
    "text": _text,
    "rss": _rss,
    "atom": _atom,
    "rdf": _rdf,
    "html": _html,
    "json": _json,
    "jsonfeed": _jsonfeed,
}


def bulletin(kind: str, stories: list[Story], declared: str | None = None) -> bytes:
    """A bulletin of ``kind`` holding ``stories`` in order, as UTF-8 bytes."""
    return _BUILDERS[kind](stories, declared).encode("utf-8")
