"""The ingest layer's errors: each names where the problem is."""

from __future__ import annotations

from urllib.parse import urlsplit

from alerts.errors import AlertsError


def redact_url(url: str) -> str:
    """The URL without credentials, query or fragment, safe to log (tokens often hide there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<invalid url>"
    if not parts.scheme:
        return url  # a local path
    if ":" in host:
        host = f"[{host}]"
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{port}{parts.path}{query}"


class IngestError(AlertsError):
    """Base for every error raised on purpose by ``alerts.ingest``."""


class ParseError(IngestError):
    """Input that cannot be read as a bulletin; prints as ``source:line: message``."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line
        self.message = message


class FetchError(IngestError):
    """A fetch that failed; ``retryable`` says whether trying again later may help."""

    def __init__(self, url: str, message: str, *, retryable: bool = True) -> None:
        self.url = redact_url(url)
        super().__init__(f"{self.url}: {message}")
        self.message = message
        self.retryable = retryable


class BlockedAddressError(FetchError):
    """A URL refused by the SSRF guard (never retryable)."""

    def __init__(self, url: str, message: str) -> None:
        super().__init__(url, message, retryable=False)


class SignatureError(IngestError):
    """A webhook signature that is missing, malformed, stale or wrong."""
