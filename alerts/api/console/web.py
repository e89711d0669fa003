"""The console's web plumbing: templates, security headers, sign-in checks, CSRF."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup, escape
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.api.console.auth import COOKIE, Session, Tokens, same
from alerts.notify.view import as_utc, format_time

HERE = Path(__file__).resolve().parent
PREFIX = "/console"
# Autoescape everywhere: every item text, watch name and error is untrusted.
_ENV = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)


def when(value: datetime | None, seconds: bool = False) -> Markup:
    """A time as the console shows it: in UTC and saying so, with the exact instant attached.

    A naive datetime is taken as UTC (the ledger and silences store aware UTC times).
    """
    if value is None:
        return Markup("")
    utc = as_utc(value)
    shown = format_time(utc, seconds=seconds)
    return Markup('<time datetime="{}">{}</time>').format(escape(utc.isoformat()), shown)


_ENV.filters["when"] = when
TEMPLATES = Jinja2Templates(env=_ENV)


class SignInRequired(Exception):
    """Raised by a page when the browser has no valid session: answered with the sign-in page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageError(Exception):
    """A request the console refuses, shown as a page saying why."""

    status = 400


class Forbidden(PageError):
    """Raised when a read-only session tries to change something, or a form's CSRF is wrong."""

    status = 403


def csp(nonce: str) -> str:
    """The pages' Content-Security-Policy: our own files, and a script only with the nonce."""
    return (
        "default-src 'none'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


class SecurityHeaders:
    """ASGI middleware: on console responses, a CSP with a fresh nonce, no framing, no caching.

    Plain ASGI, so the API's other routes (bulletin uploads above all) pass straight through.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = csp(nonce)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def secure_cookie(request: Request, console_url: str | None) -> bool:
    """Mark cookies Secure behind TLS (the request's scheme, or an https console URL)."""
    return request.url.scheme == "https" or bool(console_url and console_url.startswith("https:"))


def session_of(request: Request, tokens: Tokens) -> Session:
    """The signed-in session, or SignInRequired."""
    session = tokens.session(request.cookies.get(COOKIE))
    if session is None:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(wanted)
    return session


def check_form(session: Session, form: Any, *, admin: bool = True) -> None:
    """A state-changing form: the CSRF token must match, and the session must be admin."""
    if not same(str(form.get("csrf", "")), session.csrf):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")
    if admin and not session.admin:
        raise Forbidden("this session is read-only: sign in with an admin token to change things")


def render(
    request: Request, name: str, session: Session | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page, with the session, the CSP nonce and the CSRF token in its context."""
    context.update(
        session=session,
        csrf=session.csrf if session else "",
        nonce=getattr(request.state, "csp_nonce", ""),
        prefix=PREFIX,
        path=request.url.path,
    )
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def login_location(next_path: str) -> str:
    """The sign-in page, returning to ``next_path`` afterwards."""
    return f"{PREFIX}/login?next={quote(next_path, safe='')}"


def safe_next(value: str | None) -> str:
    """Only a path inside the console (no scheme, no host, no '//'): no open redirect."""
    if not value or not value.startswith(PREFIX) or value.startswith("//") or "\\" in value:
        return f"{PREFIX}/"
    return value
