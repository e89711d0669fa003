"""A tiny local HTTP server on 127.0.0.1 for fetch and poll tests."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.support.http import LocalHTTPServer


@dataclass
class Route:
    """A canned response; ``body`` may be replaced between requests by the test."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    """Routes by path, and every request seen (path, headers)."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    port: int = 0


def handler_for(site: Site) -> type[BaseHTTPRequestHandler]:
    """A request handler class serving ``site``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            route = site.routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            etag = route.headers.get("ETag")
            if etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(route.status)
            for key, value in route.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            self.wfile.write(route.body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextmanager
def serve(site: Site) -> Iterator[Site]:
    """Serve ``site`` on 127.0.0.1 on a free port for the duration of the block."""
    server = LocalHTTPServer(("127.0.0.1", 0), handler_for(site))
    site.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped (a few KiB on the wire)."""
    return gzip.compress(b"\0" * size, compresslevel=9)


def local_resolver(calls: list[str] | None = None) -> Callable[[str, int], list[str]]:
    """A resolver that sends every name to 127.0.0.1 and records the names asked."""

    def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return ["127.0.0.1"]

    return resolve
