"""Signing in: console tokens (read-only or admin) into a signed session cookie, with CSRF.

The cookie holds the role, the session's CSRF token and a keyed fingerprint of the token it was
made from: when a token is removed from the settings, its sessions stop working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer

from alerts.settings import Settings

Role = Literal["read", "admin"]
COOKIE = "alerts_console"
LOGIN_COOKIE = "alerts_console_login"  # the sign-in form's CSRF token (double submit)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: what it may do and the CSRF token its forms carry."""

    role: Role
    csrf: str

    @property
    def admin(self) -> bool:
        """True when the session may change things."""
        return self.role == "admin"


def same(a: str, b: str) -> bool:
    """Constant-time string equality (both non-empty)."""
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


class Tokens:
    """The configured tokens: who signs in as what, sessions, and the feed keys."""

    def __init__(self, settings: Settings) -> None:
        conf = settings.console
        api = [settings.api_token] if settings.api_token else []
        self._admin = [t.get_secret_value() for t in [*api, *conf.admin_tokens]]
        self._read = [t.get_secret_value() for t in conf.read_tokens]
        self._feed = conf.feed_token.get_secret_value() if conf.feed_token else ""
        every = "\0".join([*self._admin, "", *self._read, "", self._feed])
        # Derived from the secrets themselves: every API process agrees, and rotating the
        # tokens ends every session.
        self._key = hashlib.sha256(b"alerts-console-session\0" + every.encode()).digest()
        self._max_age = int(conf.session_hours * 3600)
        self._signer = URLSafeTimedSerializer(self._key, salt="console-session")

    @property
    def configured(self) -> bool:
        """True when anyone can sign in at all."""
        return bool(self._admin or self._read)

    def role_of(self, token: str) -> Role | None:
        """The role a sign-in token grants, None for a wrong one (every token is compared)."""
        admin = any([same(token, t) for t in self._admin])
        read = any([same(token, t) for t in self._read])
        return "admin" if admin else "read" if read else None

    def _fingerprint(self, token: str) -> str:
        return hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()[:20]

    def issue(self, token: str, role: Role) -> str:
        """A signed cookie value for a session signed in with ``token``."""
        fresh = {"r": role, "c": secrets.token_urlsafe(24), "f": self._fingerprint(token)}
        return self._signer.dumps(fresh)

    def session(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, None when absent, forged, expired or its token is gone."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self._max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        role: Role = "admin" if data.get("r") == "admin" else "read"
        pool = self._admin if role == "admin" else self._read
        if not any([same(str(data.get("f", "")), self._fingerprint(t)) for t in pool]):
            return None
        return Session(role=role, csrf=str(data.get("c", "")))

    def feed_key(self, scope: str) -> str:
        """The key in a feed's URL: it opens that one feed only, and is not the token itself."""
        if not self._feed:
            return ""
        mac = hmac.new(self._feed.encode(), f"feed:{scope}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()

    def feed_ok(self, scope: str, key: str, authorization: str) -> bool:
        """True for the feed's URL key, or the feed token as a Bearer or Basic password."""
        if not self._feed:
            return False
        if same(key, self.feed_key(scope)):
            return True
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return same(value.strip(), self._feed)
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            return same(decoded.partition(":")[2], self._feed)
        return False
