"""Fetching a source over HTTP(S), safely: SSRF guard, own redirects, caps, timeouts.

Every hop (the first request and each redirect) is checked by ``ssrf.check_url`` and the
connection goes to the checked address, so httpx never resolves the name again; the Host header
and TLS SNI (and so certificate checks) still use the name.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

import httpx

from alerts.ingest.capped import BodyTooLarge, read_capped
from alerts.ingest.errors import FetchError
from alerts.ingest.ssrf import Resolver, Target, check_url, system_resolver

MAX_BYTES = 5 * 1024 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}
_USER_AGENT = "bulletin-alerts/0.1"


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one fetch: a body, or ``not_modified`` for a conditional GET."""

    url: str
    status: int
    content: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 to a conditional GET."""
        return self.status == 304


class Fetcher:
    """An HTTP client for sources; ``resolver``, ``transport`` and ``verify`` are test seams."""

    def __init__(
        self,
        resolver: Resolver = system_resolver,
        *,
        timeout: float = 10.0,
        max_bytes: int = MAX_BYTES,
        max_redirects: int = 5,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.resolver = resolver
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            verify=verify,
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def fetch(
        self,
        url: str,
        *,
        allow_private: bool = False,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET ``url``, following up to ``max_redirects`` redirects, each one checked."""
        deadline = time.monotonic() + self.timeout * 3
        current = url
        for _ in range(self.max_redirects + 1):
            target = check_url(current, self.resolver, allow_private=allow_private)
            result = self._get(current, target, etag, last_modified, deadline)
            if isinstance(result, FetchResult):
                return result
            current = result
        raise FetchError(url, f"more than {self.max_redirects} redirects", retryable=False)

    def _get(
        self,
        url: str,
        target: Target,
        etag: str | None,
        last_modified: str | None,
        deadline: float,
    ) -> FetchResult | str:
        """One request to a checked target: a result, or the next URL of a redirect."""
        try:
            request = self._request(url, target, etag, last_modified)
            response = self.client.send(request, stream=True)
            try:
                return self._answer(url, response, deadline)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise FetchError(url, "timed out") from None
        except httpx.HTTPError as exc:
            raise FetchError(url, f"request failed: {type(exc).__name__}") from None
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(url, f"invalid URL: {type(exc).__name__}", retryable=False) from None

    def _request(
        self, url: str, target: Target, etag: str | None, last_modified: str | None
    ) -> httpx.Request:
        original = httpx.URL(url)
        default = 443 if target.scheme == "https" else 80
        name = f"[{target.host}]" if ":" in target.host else target.host
        host_header = name if target.port == default else f"{name}:{target.port}"
        headers = {
            "Host": host_header,
            "User-Agent": _USER_AGENT,
            "Accept-Encoding": "gzip, deflate",
        }
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self.client.build_request(
            "GET",
            original.copy_with(host=target.address),
            headers=headers,
            extensions={"sni_hostname": target.host},
        )

    def _answer(self, url: str, response: httpx.Response, deadline: float) -> FetchResult | str:
        status = response.status_code
        if status in _REDIRECTS and "location" in response.headers:
            return str(httpx.URL(url).join(response.headers["location"]))
        if status == 304:
            return FetchResult(url, status, etag=response.headers.get("etag"))
        if status >= 400:
            retryable = status >= 500 or status in (408, 429)
            raise FetchError(url, f"HTTP {status}", retryable=retryable)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise BodyTooLarge(url, self.max_bytes)
        body = read_capped(
            url,
            response.iter_raw(),
            encoding=response.headers.get("content-encoding", ""),
            limit=self.max_bytes,
            deadline=deadline,
        )
        return FetchResult(
            url,
            status,
            body,
            response.headers.get("content-type"),
            response.headers.get("etag"),
            response.headers.get("last-modified"),
        )
