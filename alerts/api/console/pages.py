"""The watches and sources pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alerts.api.console import ledger_pages
from alerts.api.console.auth import Tokens
from alerts.api.console.deps import ConsoleDeps
from alerts.api.console.draft import disabled_watches
from alerts.api.console.views import (
    examples_passing,
    explain,
    match_counts,
    memo_matches,
    term_forms,
)
from alerts.api.console.web import PREFIX, render, session_of
from alerts.ingest.sources import secret_pieces_of
from alerts.masking import longest_first, mask
from alerts.notify.scrub import secret_pieces
from alerts.rules import RuleSetError

MEMO_ITEMS = 500_000  # archived items whose watches are remembered (per rule set)


def register(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    """Add the watches and sources pages (and the ledger's) to the app."""

    @api.get(f"{PREFIX}/", response_class=HTMLResponse, include_in_schema=False)
    def watches(request: Request) -> Response:
        """Every watch: where it is defined, its channels, examples, matches, last alert."""
        session = session_of(request, tokens)
        try:
            rows = watch_rows(deps)
        except RuleSetError as exc:
            return render(request, "watches.html", session, rows=[], error=str(exc))
        feed = {r["id"]: tokens.feed_key(f"watch:{r['id']}") for r in rows}
        return render(
            request,
            "watches.html",
            session,
            rows=rows,
            disabled=disabled_watches(deps.settings.rules_dir),
            feeds=feed,
            all_feed=tokens.feed_key("all"),
        )

    @api.get(f"{PREFIX}/watches/{{watch_id}}", response_class=HTMLResponse, include_in_schema=False)
    def watch(request: Request, watch_id: str) -> Response:
        """One watch: its terms and what they expand to, its recent matches explained."""
        session = session_of(request, tokens)
        ruleset, matcher = deps.rules()
        try:
            rule = ruleset.get(watch_id)
        except KeyError:
            return render(request, "error.html", session, 404, message=f"no watch {watch_id!r}")
        since = deps.clock() - timedelta(days=7)
        recent = []
        for _, item in reversed(list(deps.archive.stamped_since(since))):
            found = [m for m in matcher.match(item) if m.watch == rule.id]
            if found:
                recent.append((item, explain(item, found[0])))
            if len(recent) >= 20:
                break
        return render(
            request, "watch.html", session, rule=rule, forms=term_forms(rule), recent=recent
        )

    @api.get(f"{PREFIX}/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources(request: Request) -> Response:
        """Each source: last poll, status, failures, items per hour, last error (scrubbed)."""
        session = session_of(request, tokens)
        return render(request, "sources.html", session, rows=source_rows(deps))

    ledger_pages.register(api, deps, tokens)


def watch_rows(deps: ConsoleDeps) -> list[dict[str, Any]]:
    """One row per watch of the current rule set (RuleSetError when none is valid)."""
    ruleset, matcher = deps.rules()
    now = deps.clock()

    memo = deps.cache.get("memo")
    if not isinstance(memo, tuple) or memo[0] != ruleset.version or len(memo[1]) > MEMO_ITEMS:
        memo = deps.cache["memo"] = (ruleset.version, {})
    stamped = list(deps.archive.stamped_since(now - timedelta(days=7)))
    found = match_counts(ruleset, memo_matches(matcher, memo[1]), stamped, now)
    rows = []
    for rule in ruleset.rules:
        last = deps.store.ledger.query(watch=rule.id, limit=1)
        rows.append(
            {
                "id": rule.id,
                "name": rule.name,
                "where": f"{rule.path}:{rule.line}",
                "channels": rule.notify.channels,
                "examples": examples_passing(matcher, rule),
                "day": found.get(rule.id, (0, 0))[0],
                "week": found.get(rule.id, (0, 0))[1],
                "last": last[0] if last else None,
            }
        )
    return rows


def _scrubber(deps: ConsoleDeps) -> list[str]:
    """Secret pieces of the channel URLs, and of the sources' credentials and query strings."""
    settings = deps.settings
    urls = [u for name in settings.channels for u in settings.channel_urls(name)]
    pieces = list(secret_pieces(urls))
    for src in settings.sources:
        pieces += secret_pieces_of(src)
    return list(longest_first(pieces))


def source_rows(deps: ConsoleDeps) -> list[dict[str, Any]]:
    """One row per configured source, from its stored state and the archive's last day."""
    now = deps.clock()
    per_source: dict[str, int] = {}
    for _, item in deps.archive.stamped_since(now - timedelta(days=1)):
        per_source[item.source] = per_source.get(item.source, 0) + 1
    pieces = _scrubber(deps)
    rows = []
    for src in deps.settings.sources:
        state = deps.source_state.get(src.id)
        status = "never polled"
        if state.consecutive_failures:
            status = f"failing ({state.consecutive_failures} in a row)"
        elif state.last_success:
            status = "ok"
        rows.append(
            {
                "id": src.id,
                "kind": src.kind,
                "state": state,
                "status": status,
                "per_hour": per_source.get(src.id, 0) / 24,
                "error": mask(state.last_error or "", pieces),
            }
        )
    return rows
