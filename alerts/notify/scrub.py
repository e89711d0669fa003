"""Keeps channel secrets out of logs and error texts.

Apprise masks most of what it logs, but some plugins (Slack's ``POST URL`` debug line) and the HTTP
libraries (httpx at INFO, urllib3 and our webhook poster at DEBUG) write request URLs that hold
tokens. A filter on those loggers replaces every known secret part of a configured channel URL
with ``****``. The same rule (``secret_parts``, through ``secret_pieces`` and ``mask``) scrubs
what delivery stores in the ledger, what the console shows and what the log formatter prints:
the one set of rules.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import parse_qs, unquote, urlsplit

from alerts.masking import longest_first, mask

LOGGERS = (
    "apprise",
    "httpx",
    "httpcore",
    "urllib3.connectionpool",
    "alerts.notify.webhook_http",
    "alerts.notify.channels",
    "alerts.notify.generic",
)


_LONG_PIECE = re.compile(r"[^/:@?&=#,;\s]{6,}")


def secret_parts(url: str, privacy_url: str | None) -> set[str]:
    """The parts of a channel URL never to show; the one rule for logs and the ledger alike.

    Whatever Apprise's privacy form hides (passwords, tokens, masked options), every long
    piece of the user info and path (a webhook's token may sit in a path Apprise shows), and
    the whole URL when any of that holds something. Without a privacy form (a URL Apprise
    cannot read), every long piece of the URL but its host.
    """
    if privacy_url is None:
        parts = _long_pieces(url, query=True)
    else:
        parts = _hidden_parts(url, privacy_url) | _long_pieces(url, query=False)
    return parts | {url, unquote(url)} if parts else parts


def privacy_form(url: str) -> str | None:
    """Apprise's privacy form of ``url`` (secrets masked), or None when Apprise cannot read it."""
    import apprise  # only where channel URLs are handled: a client command never needs it

    plugin = apprise.Apprise.instantiate(url)
    return None if plugin is None else str(plugin.url(privacy=True))


def _long_pieces(url: str, *, query: bool) -> set[str]:
    parts = urlsplit(url)
    userinfo = parts.netloc.rpartition("@")[0]
    chunks = (
        (userinfo, parts.path, parts.query, parts.fragment) if query else (userinfo, parts.path)
    )
    found: set[str] = set()
    for chunk in chunks:
        for form in (chunk, unquote(chunk)):
            found.update(m.group(0) for m in _LONG_PIECE.finditer(form))
    return found


def _hidden_parts(url: str, privacy_url: str) -> set[str]:
    """Parts of ``url`` that its privacy form hides: passwords, tokens, masked options."""
    shown = unquote(privacy_url)
    raw, masked = urlsplit(url), urlsplit(privacy_url)
    parts: set[str] = set()
    if raw.password and len(raw.password) >= 3:
        parts |= {raw.password, unquote(raw.password)}
    candidates = re.split(r"[@:]", raw.netloc) + raw.path.split("/")
    shown_query = parse_qs(masked.query)
    for key, values in parse_qs(raw.query).items():
        if key in shown_query and shown_query[key] != values:
            candidates.extend(values)  # Apprise printed this option masked
        elif key not in shown_query:
            # Consumed but not printed: mask what could be a token, keep short words readable.
            candidates.extend(v for v in values if len(v) >= 12)
    for token in candidates:
        for form in (token, unquote(token)):
            if len(form) >= 4 and form not in shown:
                parts.add(form)
    return parts


def secret_pieces(urls: Iterable[str]) -> tuple[str, ...]:
    """Every secret part of these channel URLs, longest first (ready for ``mask``)."""
    return longest_first(part for url in urls for part in secret_parts(url, privacy_form(url)))


class Redactor(logging.Filter):
    """A logging filter (and text scrubber) that masks registered secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, url: str, privacy_url: str) -> None:
        """Register the secret parts of one channel URL."""
        with self._lock:
            self._secrets = longest_first({*self._secrets, *secret_parts(url, privacy_url)})

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``****``."""
        return mask(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message when it holds a secret; never drops a record."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        return True


REDACTOR = Redactor()
_installed = False
_install_lock = threading.Lock()


def protect(url: str, privacy_url: str) -> None:
    """Register a channel URL's secrets and make sure the filter sits on the noisy loggers."""
    global _installed
    REDACTOR.add(url, privacy_url)
    with _install_lock:
        if not _installed:
            for name in LOGGERS:
                logging.getLogger(name).addFilter(REDACTOR)
            _installed = True
