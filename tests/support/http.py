"""The tests' local HTTP servers: threaded, and quiet when a client hangs up on purpose."""

from __future__ import annotations

import ssl
import sys
from http.server import ThreadingHTTPServer
from typing import Any

# A client that goes away mid-reply is what many tests do on purpose (size caps, timeouts,
# refused TLS); socketserver printed a traceback banner for each among pytest's dots.
CLIENT_GONE = (ConnectionError, TimeoutError, ssl.SSLError)


class LocalHTTPServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer whose request threads never outlive the process."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that hung up; report anything else as usual."""
        if isinstance(sys.exc_info()[1], CLIENT_GONE):
            return
        super().handle_error(request, client_address)
