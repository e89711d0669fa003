"""Atom feeds of matches: one per watch and one for all, opened with the feed token's keys."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from alerts.api.console.auth import Tokens
from alerts.api.console.deps import ConsoleDeps
from alerts.api.console.ledger_pages import alert_link
from alerts.api.console.web import HERE, PREFIX
from alerts.delivery.ledger import DeliveryRow
from alerts.notify.view import alert_view, safe_url

ENTRIES = 100
# Characters XML 1.0 cannot hold at all (escaping does not help): dropped from item text.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_XML = Environment(
    loader=FileSystemLoader(str(HERE / "templates")),
    autoescape=select_autoescape(["xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def register(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    """Add the feeds to the app."""

    @api.get(f"{PREFIX}/feeds/{{key}}/all.atom", include_in_schema=False)
    def every(request: Request, key: str) -> Response:
        """Matches of every watch, newest first."""
        if not tokens.feed_ok("all", key, request.headers.get("authorization", "")):
            return _refused()
        rows = deps.store.ledger.query(limit=ENTRIES * 4)
        return _feed(deps, request, "all", "Matches of every watch", rows)

    @api.get(f"{PREFIX}/feeds/{{key}}/watch/{{watch}}.atom", include_in_schema=False)
    def one(request: Request, key: str, watch: str) -> Response:
        """Matches of one watch, newest first."""
        if not tokens.feed_ok(f"watch:{watch}", key, request.headers.get("authorization", "")):
            return _refused()
        rows = deps.store.ledger.query(watch=watch, limit=ENTRIES * 4)
        return _feed(deps, request, f"watch:{watch}", f"Matches of {watch}", rows)


def _refused() -> Response:
    return Response(
        "a feed key, or the feed token as a Bearer or Basic password, is needed\n",
        status_code=401,
        media_type="text/plain",
        headers={"WWW-Authenticate": 'Basic realm="alerts feeds"'},
    )


def xml_text(text: str) -> str:
    """``text`` without the characters XML cannot carry."""
    return _NOT_XML.sub("", text)


def entries(rows: list[DeliveryRow], base: str) -> list[dict[str, object]]:
    """One entry per (watch, item), whatever the channels: the newest rows first."""
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for row in rows:
        if row.alert.key in seen:
            continue
        seen.add(row.alert.key)
        view = alert_view(row.alert)
        out.append(
            {
                "id": "urn:sha256:" + hashlib.sha256(row.alert.key.encode()).hexdigest()[:32],
                "title": xml_text(f"{view.watch_name}: {view.title}"),
                "link": safe_url(row.alert.item.url),
                "page": base + alert_link(row.watch, row.item_id),
                "updated": row.created_at.isoformat(),
                "summary": xml_text(view.why),
                "text": xml_text("".join(s.text for s in view.snippet)),
            }
        )
        if len(out) >= ENTRIES:
            break
    return out


def _feed(
    deps: ConsoleDeps, request: Request, scope: str, title: str, rows: list[DeliveryRow]
) -> Response:
    base = deps.settings.console.url or str(request.base_url).rstrip("/")
    found = entries(rows, base)
    updated = str(found[0]["updated"]) if found else datetime(2000, 1, 1).isoformat() + "+00:00"
    body = _XML.get_template("feed.atom.xml").render(
        feed_id=f"urn:alerts:feed:{scope}",
        title=title,
        updated=updated,
        self_url=str(request.url),
        console=base + PREFIX + "/",
        entries=found,
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")
