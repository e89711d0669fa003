"""Keeps channel secrets out of logs and error texts.

Apprise masks most of what it logs, but some plugins (Slack's ``POST URL`` debug line) and the HTTP
libraries (httpx at INFO, urllib3 at DEBUG) write request URLs that hold tokens. A filter on those
loggers replaces every known secret part of a configured channel URL with ``****``.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import parse_qs, unquote, urlsplit

MASK = "****"
LOGGERS = (
    "apprise",
    "httpx",
    "httpcore",
    "urllib3.connectionpool",
    "alerts.notify.apprise_notifier",
    "alerts.notify.generic",
)


def secret_parts(url: str, privacy_url: str) -> set[str]:
    """Parts of ``url`` that its privacy form hides: the URL itself, passwords, tokens."""
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
    # The whole URL too, but only when it hides something: else it is its own privacy form.
    return parts | {url, unquote(url)} if parts else parts


class Redactor(logging.Filter):
    """A logging filter (and text scrubber) that masks registered secrets."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()

    def add(self, url: str, privacy_url: str) -> None:
        """Register the secret parts of one channel URL."""
        with self._lock:
            known = set(self._secrets) | secret_parts(url, privacy_url)
            # Longest first, so a token inside a longer secret never leaves a remainder.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``****``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

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
