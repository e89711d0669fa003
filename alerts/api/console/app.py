"""``mount_console``: the console's routes, sign-in and static files, added to the API app."""

from __future__ import annotations

import secrets

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from alerts.api.console import feeds, pages, playground
from alerts.api.console.auth import COOKIE, LOGIN_COOKIE, Tokens, same
from alerts.api.console.deps import ConsoleDeps
from alerts.api.console.web import (
    HERE,
    PREFIX,
    Forbidden,
    PageError,
    SecurityHeaders,
    SignInRequired,
    login_location,
    render,
    safe_next,
    secure_cookie,
)


def mount_console(api: FastAPI, deps: ConsoleDeps) -> None:
    """Add the console under ``/console`` (nothing there is served without a session except
    the sign-in page and its stylesheet; the feeds take their own key)."""
    tokens = Tokens(deps.settings)
    api.add_middleware(SecurityHeaders)
    api.mount(
        f"{PREFIX}/static", StaticFiles(directory=str(HERE / "static")), name="console-static"
    )

    @api.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(login_location(exc.next_path), status_code=303)

    @api.exception_handler(PageError)
    async def _refused(request: Request, exc: PageError) -> Response:
        session = tokens.session(request.cookies.get(COOKIE))
        return render(request, "error.html", session, status=exc.status, message=str(exc))

    _sign_in_routes(api, deps, tokens)
    pages.register(api, deps, tokens)
    playground.register(api, deps, tokens)
    feeds.register(api, deps, tokens)


def _sign_in_routes(api: FastAPI, deps: ConsoleDeps, tokens: Tokens) -> None:
    @api.get(f"{PREFIX}/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "") -> Response:
        """The sign-in form (the only console page open to anyone)."""
        return _login_form(request, deps, tokens, safe_next(next), "")

    @api.post(f"{PREFIX}/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        """Check the token and the form's CSRF; set the session cookie."""
        form = await request.form()
        target = safe_next(str(form.get("next", "")))
        if not same(str(form.get("csrf", "")), request.cookies.get(LOGIN_COOKIE, "")):
            return _login_form(request, deps, tokens, target, "The form expired: try again.", 403)
        token = str(form.get("token", "")).strip()
        role = tokens.role_of(token)
        if role is None:
            return _login_form(request, deps, tokens, target, "That token is not valid.", 401)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            COOKIE,
            tokens.issue(token, role),
            max_age=int(deps.settings.console.session_hours * 3600),
            path=PREFIX,
            httponly=True,
            samesite="strict",
            secure=secure_cookie(request, deps.settings.console.url),
        )
        response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
        return response

    @api.post(f"{PREFIX}/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        """End the session (a form with the session's CSRF token)."""
        session = tokens.session(request.cookies.get(COOKIE))
        form = await request.form()
        if session is not None and not same(str(form.get("csrf", "")), session.csrf):
            raise Forbidden("the form's CSRF token is missing or wrong")
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path=PREFIX)
        return response

    @api.get(PREFIX, include_in_schema=False)
    def bare() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)


def _login_form(
    request: Request, deps: ConsoleDeps, tokens: Tokens, target: str, error: str, status: int = 200
) -> Response:
    csrf = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        None,
        status=status,
        login_csrf=csrf,
        next=target,
        error=error,
        configured=tokens.configured,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        csrf,
        max_age=3600,
        path=PREFIX,
        httponly=True,
        samesite="strict",
        secure=secure_cookie(request, deps.settings.console.url),
    )
    return response
