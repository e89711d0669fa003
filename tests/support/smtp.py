"""A real SMTP server for tests (aiosmtpd on 127.0.0.1), recording and scriptable.

Usage::

    with SmtpTestServer() as smtp:
        smtp.script("rcpt", "451 4.3.0 try again")    # the next RCPT gets 451, later ones 250
        smtp.always("data", "554 5.7.1 rejected")     # every DATA gets 554 until always(..., None)
        ... send to f"mailto://user:pass@{smtp.host}:{smtp.port}?to=a@example.org&mode=insecure"
        mails = smtp.wait_for(1)

``script`` queues one-shot responses per stage (``mail``, ``rcpt``, ``data``); ``always`` sets a
standing response used when the queue is empty. AUTH PLAIN/LOGIN is offered without TLS and accepts
any credentials (the user names are recorded), so Apprise URLs with a password work.
"""

from __future__ import annotations

import email.policy
import logging
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

Stage = Literal["mail", "rcpt", "data"]
_STAGES: tuple[Stage, ...] = ("mail", "rcpt", "data")


@dataclass(frozen=True)
class ReceivedMail:
    """One accepted message: envelope plus the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    received_at: float = field(default_factory=time.monotonic)


class _Handler:
    """aiosmtpd handler: answers from the script, records what DATA accepts."""

    def __init__(self, owner: SmtpTestServer) -> None:
        self.owner = owner

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.owner._next_reply("mail")
        if reply is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        reply = self.owner._next_reply("rcpt")
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        reply = self.owner._next_reply("data")
        if reply is not None:
            return reply
        self.owner._record(envelope)
        return "250 OK: queued"


class SmtpTestServer:
    """Starts/stops an aiosmtpd Controller on a free loopback port; thread-safe recording."""

    def __init__(
        self, host: str = "127.0.0.1", *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.tls_context = tls_context  # set: STARTTLS offered and required before MAIL
        self.port = 0
        self.auth_users: list[str] = []
        self._lock = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._queues: dict[Stage, deque[str]] = {s: deque() for s in _STAGES}
        self._always: dict[Stage, str | None] = dict.fromkeys(_STAGES)
        self._controller: Controller | None = None

    def start(self) -> SmtpTestServer:
        """Bind a free port and serve in a background thread (retries a lost port race)."""
        # aiosmtpd logs every command (AUTH included) at DEBUG: that is the peer's log, not ours.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        for _ in range(5):
            self.port = _free_port(self.host)
            controller = Controller(
                _Handler(self),
                hostname=self.host,
                port=self.port,
                auth_require_tls=False,
                authenticator=self._authenticate,
                ready_timeout=5.0,
                tls_context=self.tls_context,
                require_starttls=self.tls_context is not None,
            )
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller = controller
            return self
        raise RuntimeError("could not start the test SMTP server")

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """``host:port`` of the running server."""
        return f"{self.host}:{self.port}"

    def apprise_url(
        self, to: str = "alerts@example.org", *, user: str = "", password: str = ""
    ) -> str:
        """An Apprise ``mailto://`` URL that sends to this server in plain SMTP."""
        cred = f"{user}:{password}@" if user and password else ""
        return (
            f"mailto://{cred}{self.host}:{self.port}"
            f"?from=bulletin-alerts@example.org&to={to}&mode=insecure"
        )

    def script(self, stage: Stage, *replies: str) -> None:
        """Queue one-shot replies for a stage, e.g. ``script("rcpt", "451 4.3.0 try again")``."""
        with self._lock:
            self._queues[stage].extend(replies)

    def always(self, stage: Stage, reply: str | None) -> None:
        """Answer every command of ``stage`` with ``reply`` (None: accept again)."""
        with self._lock:
            self._always[stage] = reply

    def reset(self) -> None:
        """Forget messages, scripts and standing replies."""
        with self._lock:
            self._messages.clear()
            self.auth_users.clear()
            for stage in _STAGES:
                self._queues[stage].clear()
                self._always[stage] = None

    @property
    def messages(self) -> list[ReceivedMail]:
        """A snapshot of the accepted messages, oldest first."""
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Wait until ``count`` messages arrived; AssertionError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} SMTP messages, got {len(self._messages)}"
                    )
                self._lock.wait(left)
            return list(self._messages)

    def _next_reply(self, stage: Stage) -> str | None:
        with self._lock:
            if self._queues[stage]:
                return self._queues[stage].popleft()
            return self._always[stage]

    def _record(self, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=parsed,
            raw=raw,
        )
        with self._lock:
            self._messages.append(mail)
            self._lock.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        login = getattr(auth_data, "login", b"") or b""
        with self._lock:
            self.auth_users.append(login.decode("utf-8", "replace"))
        return AuthResult(success=True)


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def running_smtp() -> Iterator[SmtpTestServer]:
    """Generator for a pytest fixture: ``yield from running_smtp()``."""
    server = SmtpTestServer().start()
    try:
        yield server
    finally:
        server.stop()
