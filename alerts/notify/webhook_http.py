"""A kept-alive HTTP(S) POST for webhook senders: certificates checked, proxies from the env.

httpx cost about 0.5 ms of CPU per Slack POST (request and response models, its transport
layers); urllib3's connection pool about 0.2 ms; a direct POST now goes over our own HTTP/1.1
wire (``http1``: the request in one write, the answer parsed by httptools), about 35 us. What
httpx did for us is kept: certificates verified against certifi's bundle (or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``), the host's name checked, the proxy for the URL's scheme from
``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` unless ``NO_PROXY`` covers the host (a proxied
POST still goes through urllib3's ProxyManager: CONNECT tunnels, TLS to the proxy, its
credentials), a connect and read timeout, no redirects followed and no retries (delivery owns
retrying). Connections are kept alive per poster and process, made after a fork and never
shared across one; an idle connection the peer closed is replaced before it carries a request,
and one that fails while carrying it is not retried here (the message may have arrived: a
resend is delivery's to decide and flag).

Errors never carry the URL's path or query (a webhook's token lives there): what is raised
here names at most the host, and whatever it says is cut of the path before it leaves.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import urllib.request
from typing import Any, NamedTuple

import certifi
import urllib3
from urllib3.exceptions import ClosedPoolError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import Retry, parse_url

from alerts.notify.http1 import BadAnswer, Wire, connect

log = logging.getLogger(__name__)
_managers: dict[tuple[int, str | None, str | None, str | None], urllib3.PoolManager] = {}
_contexts: dict[tuple[int, str | None, str | None], ssl.SSLContext] = {}
_managers_lock = threading.Lock()
_IDLE_MAX = 4  # kept-alive connections per host (urllib3's pools kept as many)
# No retries and no redirects followed: delivery owns retrying. Made once (urllib3 would convert
# ``retries=False`` into this on every request).
_NO_RETRIES = Retry(total=False, redirect=False)


class PostError(Exception):
    """The POST got no answer: connection, TLS or proxy failure. Its text holds no URL path."""


class PostTimeout(PostError):
    """Connecting or reading the answer took longer than the timeout."""


class Answer(NamedTuple):
    """A peer's answer: status, headers (case-insensitive ``get``) and the body (a tuple, made
    in one step: a frozen dataclass set each field through ``object.__setattr__``)."""

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
    ca_file, ca_dir = _ca_settings()
    key = (os.getpid(), proxy, ca_file, ca_dir)
    with _managers_lock:
        manager = _managers.get(key)
        if manager is None:
            manager = _managers[key] = _new_manager(proxy, ca_file, ca_dir)
        return manager


def _ca_settings() -> tuple[str | None, str | None]:
    return os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None


def tls_context() -> ssl.SSLContext:
    """This process's client TLS context for the CA settings of the env: certificates and
    host names checked (the bundle is loaded once, not per connection)."""
    ca_file, ca_dir = _ca_settings()
    key = (os.getpid(), ca_file, ca_dir)
    with _managers_lock:
        context = _contexts.get(key)
        if context is None:
            cafile = ca_file or (None if ca_dir else certifi.where())
            context = ssl.create_default_context(cafile=cafile, capath=ca_dir)
            context.set_alpn_protocols(["http/1.1"])
            _contexts[key] = context
        return context


class Idle:
    """This process's kept-alive direct connections to one host (scheme, host, port, CA)."""

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None) -> None:
        self.address, self.tls = address, tls
        self.wires: list[Wire] = []
        self.lock = threading.Lock()


_idle: dict[tuple[int, str, str, int, str | None, str | None], Idle] = {}


def idle_for(scheme: str, host: str, port: int) -> Idle:
    """This process's connections to ``host`` (with the env's CA settings for HTTPS)."""
    ca_file, ca_dir = _ca_settings() if scheme == "https" else (None, None)
    key = (os.getpid(), scheme, host, port, ca_file, ca_dir)
    with _managers_lock:
        found = _idle.get(key)
    if found is None:
        tls = tls_context() if scheme == "https" else None
        with _managers_lock:
            found = _idle.setdefault(key, Idle((host, port), tls))
    return found


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
        self._seconds = timeout
        self._pool: Any = None  # this process's urllib3 pool for the URL's host (proxied)
        self._pool_pid = 0
        default = 443 if self.scheme == "https" else 80
        self._address = (self.host.strip("[]"), self.port or default)
        host = self.host if self.port in (None, default) else f"{self.host}:{self.port}"
        head = f"POST {self.path} HTTP/1.1\r\nHost: {host}\r\nAccept-Encoding: identity\r\n"
        self._head = head.encode("latin-1")
        self._headers: tuple[tuple[tuple[str, str], ...], bytes] = ((), b"")  # last, encoded
        self._idle: Idle | None = None  # this process's connections to the host (direct)
        self._idle_pid = 0

    def post(self, body: bytes, headers: dict[str, str]) -> Answer:
        """POST ``body``; the answer whatever its status, or PostTimeout / PostError."""
        if self.proxy is not None:
            return self._post_proxied(body, headers)
        request = self._request(body, headers)
        try:
            wire = self._wire()
            reply = _exchange(wire, request)
        except TimeoutError as exc:  # connecting, the TLS handshake or reading the answer
            raise PostTimeout(self._safe(exc)) from None
        except (OSError, BadAnswer) as exc:  # TLS errors included (ssl.SSLError)
            raise PostError(self._safe(exc)) from None
        if reply.reusable:
            self._keep(wire)
        else:
            wire.close()
        # urllib3's request line, for the same DEBUG logs (scrubbed: see ``scrub.LOGGERS``)
        if log.isEnabledFor(logging.DEBUG):
            log.debug('%s://%s:%s "POST %s HTTP/1.1" %s %s', self.scheme, *self._address,
                      self.path, reply.status, len(reply.body))  # fmt: skip
        return Answer(reply.status, reply.headers, reply.body)

    def _request(self, body: bytes, headers: dict[str, str]) -> bytes:
        """The whole request; a header with a line break in it is refused (as http.client).

        A sender passes the same headers every time: their encoded lines are kept with them.
        """
        pairs = tuple(headers.items())
        kept = self._headers  # one read: another thread may replace it meanwhile
        if kept[0] != pairs:
            kept = self._headers = (pairs, _header_lines(pairs))
        length = b"Content-Length: %d\r\n\r\n" % len(body)
        return b"".join((self._head, kept[1], length, body))

    def _wire(self) -> Wire:
        """An idle connection of this process the peer has not closed, else a new one."""
        idle = self._connections_direct()
        with idle.lock:
            while idle.wires:
                wire = idle.wires.pop()
                if not wire.stale():
                    return wire
                wire.close()
        return connect(*idle.address, self._seconds, idle.tls)

    def _keep(self, wire: Wire) -> None:
        idle = self._connections_direct()
        with idle.lock:
            if len(idle.wires) < _IDLE_MAX:
                idle.wires.append(wire)
                return
        wire.close()

    def _connections_direct(self) -> Idle:
        """The host's idle connections, looked up once per process (a fork's child starts
        with none of its parent's)."""
        if self._idle is None or self._idle_pid != os.getpid():
            self._idle = idle_for(self.scheme, *self._address)
            self._idle_pid = os.getpid()
        return self._idle

    def _connections(self, *, fresh: bool = False) -> Any:
        """The host's pool from this process's manager, looked up once per process (the
        lookup normalised the host's key and read the CA settings on every send)."""
        if fresh or self._pool_pid != os.getpid():
            manager = pool_manager(self.proxy)
            self._pool = manager.connection_from_host(self.host, self.port, self.scheme)
            self._pool_pid = os.getpid()
        return self._pool

    def _post_proxied(self, body: bytes, headers: dict[str, str]) -> Answer:
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


def _header_lines(pairs: tuple[tuple[str, str], ...]) -> bytes:
    """``Name: value`` lines; ValueError when a name or value holds a line break."""
    lines = [f"{name}: {value}\r\n" for name, value in pairs]
    text = "".join(lines)
    if text.count("\n") != len(lines) or text.count("\r") != len(lines):
        raise ValueError("a header name or value holds a line break")
    return text.encode("latin-1")


def _exchange(wire: Wire, request: bytes) -> Any:
    """One request on ``wire``; the wire is closed when it fails (it may be out of step)."""
    try:
        return wire.exchange(request)
    except BaseException:
        wire.close()
        raise
