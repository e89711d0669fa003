"""Who may see and change what: sign-in, session cookie, CSRF, roles, CSP, escaping."""

from __future__ import annotations

import re

from alerts.delivery.ledger import DeliveryRow
from alerts.models import Alert, Hit, Item
from tests.api.console.conftest import ADMIN, NOW, READER, Console, csrf_of, make_console

PAGES = ["/console/", "/console/watches/kaluga", "/console/playground", "/console/deliveries",
         "/console/silences", "/console/sources", "/console/alert?watch=kaluga&item=x"]  # fmt: skip


def test_nothing_but_the_sign_in_page_is_served_without_a_session(console: Console) -> None:
    app = console.client.app
    paths = {r.path for r in app.routes if getattr(r, "path", "").startswith("/console")}  # type: ignore[attr-defined]
    assert {"/console/login", "/console/playground", "/console/silences"} <= paths
    for path in sorted(paths - {"/console/login", "/console/static"}):
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in ("GET", "POST"):
            resp = console.client.request(method, concrete, follow_redirects=False)
            assert resp.status_code in (303, 307, 401, 405), (method, path, resp.status_code)
            if resp.status_code == 303:
                assert resp.headers["location"].startswith("/console/login"), path
    assert console.client.get("/console/login").status_code == 200


def test_sign_in_sets_an_httponly_samesite_strict_cookie(console: Console) -> None:
    console.sign_in()
    cookie = next(c for c in console.client.cookies.jar if c.name == "alerts_console")
    assert cookie.path == "/console" and not cookie.secure
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    for path in PAGES:
        assert console.client.get(path).status_code in (200, 404), path


def test_behind_tls_the_cookie_is_secure() -> None:
    console = make_console(base_url="https://testserver")
    page = console.client.get("/console/login")
    resp = console.client.post(
        "/console/login",
        data={"csrf": csrf_of(page.text), "token": ADMIN},
        follow_redirects=False,
    )
    assert "Secure" in resp.headers["set-cookie"]


def test_a_wrong_token_or_a_missing_csrf_token_is_refused(console: Console) -> None:
    page = console.client.get("/console/login")
    wrong = console.client.post("/console/login", data={"csrf": csrf_of(page.text), "token": "no"})
    assert wrong.status_code == 401 and "not valid" in wrong.text
    forged = console.client.post("/console/login", data={"csrf": "made-up", "token": ADMIN})
    assert forged.status_code == 403
    assert console.client.get("/console/", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_the_console(console: Console) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/console\\@evil"):
        page = console.client.get("/console/login")
        resp = console.client.post(
            "/console/login",
            data={"csrf": csrf_of(page.text), "token": ADMIN, "next": target},
            follow_redirects=False,
        )
        assert resp.headers["location"] == "/console/", target


def test_forms_need_the_session_s_csrf_token(console: Console) -> None:
    console.sign_in()
    data = {"watch": "kaluga", "duration": "1h"}
    assert console.client.post("/console/silences", data=data).status_code == 403
    ok = console.client.post("/console/silences", data={**data, "csrf": console.csrf()})
    assert ok.status_code == 200 and "kaluga" in ok.text


def test_a_read_only_session_looks_but_cannot_change(console: Console) -> None:
    console.sign_in(READER)
    page = console.client.get("/console/silences")
    assert page.status_code == 200 and "read-only" in page.text and "New silence" not in page.text
    resp = console.client.post(
        "/console/silences", data={"watch": "kaluga", "duration": "1h", "csrf": csrf_of(page.text)}
    )
    assert resp.status_code == 403 and "read-only" in resp.text


def test_removing_a_token_ends_its_sessions(console: Console) -> None:
    console.sign_in(READER)
    cookie = console.client.cookies.get("alerts_console")
    other = make_console(read_tokens=[])
    other.client.cookies.set("alerts_console", cookie or "", path="/console")
    assert other.client.get("/console/", follow_redirects=False).status_code == 303


def test_pages_carry_a_csp_with_a_nonce_and_no_inline_script(console: Console) -> None:
    console.sign_in()
    for path in ["/console/login", *PAGES]:
        resp = console.client.get(path)
        policy = resp.headers["content-security-policy"]
        assert "script-src 'self' 'nonce-" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy and resp.headers["x-frame-options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bnonce=)", resp.text), path
        assert not re.search(r"\son[a-z]+=", resp.text), path  # no inline event handlers


def test_item_text_is_escaped(console: Console) -> None:
    title = "Kaluga <script>alert(1)</script> <img src=x onerror=alert(2)>"
    item = Item(id="evil", source="wire", title=title, body="“quotes” & <b>tags</b>")
    hit = Hit(term="kaluga", field="title", start=0, end=6, text="Kaluga")
    alert = Alert(
        watch="kaluga", watch_name="Kaluga <i>", item=item, hits=(hit,), channels=("email",)
    )
    console.deps.store.ledger.save(DeliveryRow.new(alert, "email", NOW))
    console.sign_in()
    for path in ("/console/deliveries", "/console/alert?watch=kaluga&item=evil"):
        html = console.client.get(path).text
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_console_tokens_may_come_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from alerts.settings import load_settings

    monkeypatch.setenv("READ_TOKEN_FOR_TEST", "from-env")
    settings = load_settings(console={"read_tokens": ["${READ_TOKEN_FOR_TEST}"]})
    assert settings.console.read_tokens[0].get_secret_value() == "from-env"
