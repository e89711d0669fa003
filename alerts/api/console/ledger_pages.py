"""Alerts and deliveries (the ledger, replay of dead letters), one alert's page, silences."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alerts.api.console.auth import Tokens
from alerts.api.console.deps import ConsoleDeps
from alerts.api.console.views import explain
from alerts.api.console.web import PREFIX, PageError, check_form, render, safe_next, session_of
from alerts.delivery import add_silence, expire_silence, list_silences, replay
from alerts.delivery.ledger import STATUSES, DeliveryRow, row_id
from alerts.models import Match
from alerts.rules.notify import parse_duration

ROWS = 200


def alert_link(watch: str, item_id: str) -> str:
    """The console page of one alert (what emails and Slack messages link to)."""
    return f"{PREFIX}/alert?{urlencode({'watch': watch, 'item': item_id})}"


def register(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    """Add the ledger, alert and silence pages to the app."""

    @api.get(f"{PREFIX}/deliveries", response_class=HTMLResponse, include_in_schema=False)
    def deliveries(
        request: Request, watch: str = "", channel: str = "", status: str = ""
    ) -> Response:
        """The ledger, newest first, filtered by watch, channel and status."""
        session = session_of(request, tokens)
        picked = status if status in STATUSES else None
        rows = deps.store.ledger.query(watch=watch or None, status=picked, limit=ROWS)
        rows = [r for r in rows if not channel or r.channel == channel]
        return render(
            request,
            "deliveries.html",
            session,
            rows=rows,
            link=alert_link,
            statuses=STATUSES,
            channels=sorted(deps.settings.channels),
            filters={"watch": watch, "channel": channel, "status": picked or ""},
        )

    @api.post(f"{PREFIX}/deliveries/{{rid}}/replay", include_in_schema=False)
    async def replay_row(request: Request, rid: str) -> Response:
        """Put a dead letter back to pending; the reconciler sends it again."""
        session = session_of(request, tokens)
        form = await request.form()
        check_form(session, form)
        if replay(deps.store, rid, deps.clock()) is None:
            raise PageError(f"{rid} is not a dead letter (any more)")
        back = safe_next(str(form.get("back", "")) or f"{PREFIX}/deliveries")
        return RedirectResponse(back, status_code=303)

    @api.get(f"{PREFIX}/alert", response_class=HTMLResponse, include_in_schema=False)
    def alert(request: Request, watch: str = "", item: str = "") -> Response:
        """One alert: the item, why it matched, each channel's delivery, mute buttons."""
        session = session_of(request, tokens)
        rows = alert_rows(deps, watch, item)
        if not rows:
            return render(request, "error.html", session, 404, message="no such alert")
        first = rows[0].alert
        match = Match(watch=watch, item_id=item, clause=first.clause, hits=first.hits)
        return render(
            request,
            "alert.html",
            session,
            rows=rows,
            alert=first,
            why=explain(first.item, match),
            back=alert_link(watch, item),
        )

    _silence_routes(api, deps, tokens)


def alert_rows(deps: ConsoleDeps, watch: str, item_id: str) -> list[DeliveryRow]:
    """The ledger rows of one (watch, item), one per channel that has one."""
    found = [
        deps.store.ledger.get(row_id(f"{watch}|{item_id}|{ch}")) for ch in deps.settings.channels
    ]
    return [r for r in found if r is not None]


def _silence_routes(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    @api.get(f"{PREFIX}/silences", response_class=HTMLResponse, include_in_schema=False)
    def silences(request: Request, watch: str = "", story: str = "") -> Response:
        """Active silences (and those ended in the last week), and the form to add one."""
        session = session_of(request, tokens)
        now = deps.clock()
        every = list_silences(deps.store.silences, now, include_expired=True)
        try:
            watches = [r.id for r in deps.rules()[0].rules]
        except Exception:  # no valid rule set: a silence can still name a watch by hand
            watches = []
        return render(
            request,
            "silences.html",
            session,
            active=[s for s in every if s.active(now)],
            ended=[s for s in every if not s.active(now)],
            watches=watches,
            channels=sorted(deps.settings.channels),
            preset={"watch": watch, "story": story},
        )

    @api.post(f"{PREFIX}/silences", include_in_schema=False)
    async def add(request: Request) -> Response:
        """Create a silence for a watch, a channel or a story."""
        session = session_of(request, tokens)
        form = await request.form()
        check_form(session, form)
        fields = _silence_fields(form)
        try:
            duration = parse_duration(fields.pop("duration"))
            add_silence(deps.store.silences, duration=duration, now=deps.clock(), **fields)
        except ValueError as exc:
            raise PageError(f"cannot add this silence: {exc}") from None
        back = safe_next(str(form.get("back", "")) or f"{PREFIX}/silences")
        return RedirectResponse(back, status_code=303)

    @api.post(f"{PREFIX}/silences/{{sid}}/expire", include_in_schema=False)
    async def expire(request: Request, sid: str) -> Response:
        """End a silence now."""
        session = session_of(request, tokens)
        check_form(session, await request.form())
        if expire_silence(deps.store.silences, sid, deps.clock()) is None:
            raise PageError(f"no silence {sid!r}")
        return RedirectResponse(f"{PREFIX}/silences", status_code=303)


def _silence_fields(form: Any) -> dict[str, Any]:
    def text(name: str) -> str | None:
        return str(form.get(name, "")).strip()[:500] or None

    return {
        "watch": text("watch"),
        "channel": text("channel"),
        "story": text("story"),
        "comment": text("comment") or "",
        "duration": text("duration") or "",
    }
