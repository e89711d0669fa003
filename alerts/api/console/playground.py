"""The playground: paste a bulletin (or fetch one), try watches or a draft, backtest, save."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from alerts.api.console.auth import Session, Tokens
from alerts.api.console.deps import ConsoleDeps
from alerts.api.console.draft import load_draft, save_draft
from alerts.api.console.views import DayCount, MatchView, explain, per_day
from alerts.api.console.web import PREFIX, Forbidden, check_form, render, session_of
from alerts.ingest import IngestError, parse_bulletin
from alerts.matching import Matcher
from alerts.models import Item
from alerts.rules import RuleSet, RuleSetError

SOURCE = "playground"


@dataclass
class Result:
    """What one press of a playground button produced."""

    items: list[tuple[Item, list[MatchView]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # input or fetch problems
    yaml_errors: tuple[str, ...] = ()  # the draft's, as line:col: message
    backtest: dict[str, list[DayCount]] | None = None
    watches: tuple[str, ...] = ()
    saved: str = ""


def register(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    """Add the playground to the app."""

    @api.get(f"{PREFIX}/playground", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request) -> Response:
        """The empty playground."""
        session = session_of(request, tokens)
        return _page(request, deps, session, {"days": "7"}, Result(), run=False)

    @api.post(f"{PREFIX}/playground", include_in_schema=False)
    async def run(request: Request) -> Response:
        """Try, backtest, download or save, as the pressed button says."""
        session = session_of(request, tokens)
        form = await request.form()
        check_form(session, form, admin=False)
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        values["picked"] = ",".join(str(v) for v in form.getlist("watch"))
        action = values.get("action", "try")
        if action == "download":
            return _download(values.get("draft", ""))
        result = Result()
        if action == "save":
            _save(deps, session, values.get("draft", ""), result)
        _try(deps, values, result, backtest=action == "backtest")
        return _page(request, deps, session, values, result, run=True)


def _page(
    request: Request,
    deps: ConsoleDeps,
    session: Session,
    values: dict[str, str],
    result: Result,
    *,
    run: bool,
) -> Response:
    try:
        watches = [r.id for r in deps.rules()[0].rules]
    except RuleSetError:
        watches = []
    return render(
        request,
        "playground.html",
        session,
        values=values,
        picked=set(values.get("picked", "").split(",")),
        watches=watches,
        result=result,
        run=run,
        allow_edit=deps.settings.console.allow_edit,
        max_days=int(deps.settings.item_retention_days),
    )


def _download(draft: str) -> Response:
    return Response(
        draft,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="watch.yaml"'},
    )


def _save(deps: ConsoleDeps, session: Session, draft: str, result: Result) -> None:
    if not deps.settings.console.allow_edit:
        raise Forbidden("saving is off (console.allow_edit): download the YAML instead")
    if not session.admin:
        raise Forbidden("this session is read-only: sign in with an admin token to save")
    path, message = save_draft(
        draft, deps.settings.rules_dir, channels=list(deps.settings.channels)
    )
    if path is None:
        result.problems.append(f"not saved: {message}")
    else:
        result.saved = message


def _rules(deps: ConsoleDeps, values: dict[str, str], result: Result) -> Matcher | None:
    """The draft's matcher, or the picked watches', or every watch's."""
    if values.get("draft", "").strip():
        draft = load_draft(values["draft"], channels=list(deps.settings.channels))
        result.yaml_errors = draft.errors
        return Matcher(draft.ruleset) if draft.ruleset else None
    ruleset, matcher = deps.rules()
    picked = [r for r in ruleset.rules if r.id in values.get("picked", "").split(",")]
    if not picked:
        return matcher
    return Matcher(RuleSet(tuple(picked), ruleset.version))


def _items(deps: ConsoleDeps, values: dict[str, str], result: Result) -> list[Item]:
    url, text = values.get("url", "").strip(), values.get("text", "")
    try:
        if url:
            fetched = deps.fetch(url)
            return parse_bulletin(fetched.content, source=SOURCE, content_type=fetched.content_type)
        if len(text.encode()) > deps.settings.max_body_bytes:
            result.problems.append(f"the text is over {deps.settings.max_body_bytes} bytes")
            return []
        return (
            parse_bulletin(text.encode(), source=SOURCE, content_type="text/plain")
            if text.strip()
            else []
        )
    except IngestError as exc:
        result.problems.append(str(exc))
        return []


def _try(deps: ConsoleDeps, values: dict[str, str], result: Result, *, backtest: bool) -> None:
    try:
        matcher = _rules(deps, values, result)
    except RuleSetError as exc:
        result.problems.append(f"no valid rule set: {exc}")
        return
    if matcher is None:
        return
    result.watches = tuple(r.id for r in matcher.ruleset.rules)
    for item in _items(deps, values, result):
        result.items.append((item, [explain(item, m) for m in matcher.match(item)]))
    if backtest:
        days = _days(values.get("days", "7"), int(deps.settings.item_retention_days) or 1)
        now = deps.clock()
        stamped = list(deps.archive.stamped_since(now - timedelta(days=days)))
        result.backtest = per_day(matcher, stamped, now, days)


def _days(value: str, most: int) -> int:
    try:
        return max(1, min(int(value), most))
    except ValueError:
        return 7
