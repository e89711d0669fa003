"""A local HTTP CONNECT proxy for tests: tunnels bytes and records what it was asked for."""

from __future__ import annotations

import select
import socket
import socketserver
import threading
from typing import Any


class _Tunnel(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        head = self.rfile.readline(8192).decode("latin-1").split()
        headers = {}
        while (line := self.rfile.readline(8192).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.server.owner.record(" ".join(head[:2]), headers)
        if len(head) < 2 or head[0] != "CONNECT":
            self.wfile.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = head[1].rpartition(":")
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5) as upstream:
            self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            self._pipe(self.connection, upstream)

    @staticmethod
    def _pipe(client: socket.socket, upstream: socket.socket) -> None:
        while True:
            ready, _, _ = select.select([client, upstream], [], [], 5)
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (upstream if sock is client else client).sendall(data)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ConnectProxy


class ConnectProxy:
    """A CONNECT-only proxy on a free 127.0.0.1 port; ``asked`` lists "CONNECT host:port" lines."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Tunnel)
        self._server.owner = self

    def record(self, line: str, headers: dict[str, str]) -> None:
        """Note one request to the proxy (thread-safe)."""
        with self._lock:
            self.asked.append(line)
            self.headers.append(headers)

    @property
    def url(self) -> str:
        """The proxy's URL, for ``HTTPS_PROXY``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ConnectProxy:
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
