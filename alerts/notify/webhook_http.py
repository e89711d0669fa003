"""A pooled HTTP(S) POST for webhook senders: urllib3, certificates checked, proxies from the env.

httpx cost about 0.5 ms of CPU per Slack POST (request and response models, its transport
layers); urllib3's connection pool about a third of that. What httpx did for us is kept here:
certificates verified against certifi's bundle (or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), the
proxy for the URL's scheme from ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` unless
``NO_PROXY`` covers the host, a connect and read timeout, no redirects followed and no retries
(delivery owns retrying). Connections are kept alive in one pool manager per process, made after
a fork and never shared across one.

Errors never carry the URL's path or query (a webhook's token lives there): urllib3 names only
the host in what it raises here, and whatever it says is cut of the path before it leaves.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from dataclasses import dataclass
from typing import Any

import certifi
import urllib3
from urllib3.exceptions import ClosedPoolError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry, parse_url

_managers: dict[tuple[int, str | None, str | None, str | None], urllib3.PoolManager] = {}
_managers_lock = threading.Lock()
# No retries and no redirects followed: delivery owns retrying. Made once (urllib3 would convert
# ``retries=False`` into this on every request).
_NO_RETRIES = Retry(total=False, redirect=False)


class PostError(Exception):
    """The POST got no answer: connection, TLS or proxy failure. Its text holds no URL path."""


class PostTimeout(PostError):
    """Connecting or reading the answer took longer than the timeout."""


@dataclass(frozen=True)
class Answer:
    """A peer's answer: status, headers (case-insensitive ``get``) and the body."""

    status: int
    headers: Any
    body: bytes

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return self.body.decode("utf-8", "replace")


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url``'s scheme, or None (none set, or NO_PROXY)."""
    proxies = urllib.request.getproxies_environment()
    parts = parse_url(url)
    proxy = proxies.get(parts.scheme or "http") or proxies.get("all")
    # The environment's NO_PROXY rule (the stdlib's; typeshed leaves this public function out).
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if not proxy or bypass(parts.host or "", proxies):
        return None
    return proxy


def pool_manager(proxy: str | None) -> urllib3.PoolManager:
    """This process's manager for ``proxy`` (None: direct) and the CA settings of the env."""
    ca_file = os.environ.get("SSL_CERT_FILE") or None
    ca_dir = os.environ.get("SSL_CERT_DIR") or None
    key = (os.getpid(), proxy, ca_file, ca_dir)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = _new_manager(proxy, ca_file, ca_dir)
        return manager


def _new_manager(proxy: str | None, ca_file: str | None, ca_dir: str | None) -> urllib3.PoolManager:
    tls: dict[str, Any] = {
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": ca_file or (None if ca_dir else certifi.where()),
        "ca_cert_dir": ca_dir,
    }
    if proxy is None:
        return urllib3.PoolManager(maxsize=4, **tls)
    auth = parse_url(proxy).auth  # ProxyManager ignores credentials in the proxy's URL
    headers = urllib3.make_headers(proxy_basic_auth=auth) if auth else None
    return urllib3.ProxyManager(proxy, proxy_headers=headers, maxsize=4, **tls)


class WebhookPoster:
    """POSTs to one fixed URL; the URL, timeout and proxy are settled once, not per send."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = parse_url(url)
        self.scheme = parts.scheme or "http"
        self.host = parts.host or ""
        self.port = parts.port
        self.path = parts.request_uri
        self.proxy = proxy_for(url)
        # Through a proxy a plain-HTTP request names the whole URL; HTTPS tunnels (CONNECT).
        self.target = url if self.proxy and self.scheme == "http" else self.path
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._pool: Any = None  # this process's connection pool for the URL's host
        self._pool_pid = 0

    def _connections(self, *, fresh: bool = False) -> Any:
        """The host's pool from this process's manager, looked up once per process (the
        lookup normalised the host's key and read the CA settings on every send)."""
        if fresh or self._pool_pid != os.getpid():
            manager = pool_manager(self.proxy)
            self._pool = manager.connection_from_host(self.host, self.port, self.scheme)
            self._pool_pid = os.getpid()
        return self._pool

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body``; the answer whatever its status, or PostTimeout / PostError."""
        try:
            try:
                response = self._urlopen(self._connections(), body, headers)
            except ClosedPoolError:  # closed since (the manager's clear): nothing was sent
                response = self._urlopen(self._connections(fresh=True), body, headers)
        except NewConnectionError as exc:  # a subclass of the timeout, but not one
            raise PostError(self._safe(exc)) from None
        except Urllib3Timeout as exc:
            raise PostTimeout(self._safe(exc)) from None
        except (HTTPError, OSError) as exc:
            raise PostError(self._safe(exc)) from None
        return Answer(response.status, response.headers, response.data)

    def _urlopen(self, pool: Any, body: bytes, headers: dict[str, str]) -> Any:
        return pool.urlopen(
            "POST", self.target, body=body, headers=headers, retries=_NO_RETRIES,
            redirect=False, timeout=self.timeout, assert_same_host=False,
        )  # fmt: skip

    def _safe(self, exc: BaseException) -> str:
        text = f"{type(exc).__name__}: {exc}"
        return text.replace(self.path, "/…") if self.path != "/" else text
