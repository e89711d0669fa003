"""A thin SMTP sender for ``mailto://`` / ``mailtos://`` destinations.

Apprise parses the URL (host, port, TLS mode, credentials, from, to/cc/bcc) but its own send reports
a 451 and a 554 alike (``False``), so the message is built and sent here with smtplib, and the SMTP
reply code decides: 4xx retry, 5xx permanent. The message is multipart (text + sanitised HTML), has
its own Message-ID (returned as ``thread_ref``) and threads with In-Reply-To / References.
"""

from __future__ import annotations

import email.policy
import functools
import logging
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from alerts.clock import Clock
from alerts.notify.base import SendResult
from alerts.notify.escape import as_message_id
from alerts.notify.render import Kind, Message
from alerts.notify.transport import failure, smtp_retryable

log = logging.getLogger(__name__)


class SmtpSender:
    """Sends one multipart email per call to the recipients of one Apprise mailto URL."""

    kind: Kind = "email"

    def __init__(self, plugin: Any, *, label: str, timeout: float, clock: Clock) -> None:
        self.label = label
        self.timeout = timeout
        self.clock = clock
        self.host: str = plugin.smtp_host
        self.port: int = int(plugin.port)
        self.mode: str = str(plugin.secure_mode)
        self.user: str | None = plugin.user
        self.password: str | None = plugin.password
        self.verify: bool = bool(plugin.verify_certificate)
        name, self.from_addr = plugin.from_addr[0], str(plugin.from_addr[1])
        if not name or name == plugin.app_id:  # Apprise's own name is its default, not the user's
            name = "bulletin-alerts"
        self.from_header = formataddr((str(name), self.from_addr))
        self.to = [str(addr) for _, addr in plugin.targets]
        self.cc = sorted(str(a) for a in plugin.cc)
        self.bcc = sorted(str(a) for a in plugin.bcc)
        self.reply_to = sorted(str(a) for a in plugin.reply_to)
        self._context: ssl.SSLContext | None = None

    def send(self, message: Message, *, reply_to: str | None = None) -> SendResult:
        """Build and send the email; classify any SMTP failure by its reply code."""
        mail = self.build(message, reply_to=reply_to)
        try:
            refused = self._deliver(mail)
        except (smtplib.SMTPException, OSError) as exc:
            return self._classify(exc)
        if refused:
            # Some recipients took it: a retry would duplicate for them, so this counts as sent.
            code, _ = next(iter(refused.values()))
            note = failure(
                self.label, f"smtp {code}: {len(refused)} recipient(s) refused", retryable=False
            )
            return SendResult(ok=True, error=note.error, thread_ref=mail["Message-ID"])
        return SendResult(ok=True, thread_ref=mail["Message-ID"])

    def build(self, message: Message, *, reply_to: str | None = None) -> EmailMessage:
        """The email: headers (one-line subject, ids), text part, HTML alternative."""
        mail = EmailMessage(policy=email.policy.SMTP)
        mail["Subject"] = message.subject
        mail["From"] = self.from_header
        mail["To"] = ", ".join(self.to)
        if self.cc:
            mail["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            mail["Reply-To"] = ", ".join(self.reply_to)
        mail["Date"] = format_datetime(self.clock())
        mail["Message-ID"] = make_msgid(domain=self.from_addr.rpartition("@")[2] or "localhost")
        parent = as_message_id(reply_to)
        if parent:
            mail["In-Reply-To"] = parent
            mail["References"] = parent
        mail["X-Mailer"] = "bulletin-alerts"
        mail.set_content(message.text)
        if message.html is not None:
            mail.add_alternative(message.html, subtype="html")
        return mail

    def _deliver(self, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
        factory: Callable[..., smtplib.SMTP] = smtplib.SMTP
        extra: dict[str, Any] = {"local_hostname": _local_hostname()}
        if self.mode == "ssl":
            factory, extra["context"] = smtplib.SMTP_SSL, self._tls()
        with factory(self.host, self.port, timeout=self.timeout, **extra) as client:
            if self.mode == "starttls":
                client.starttls(context=self._tls())
            if self.user and self.password:
                client.login(self.user, self.password)
            rcpts = [*self.to, *self.cc, *self.bcc]
            return client.send_message(mail, from_addr=self.from_addr, to_addrs=rcpts)

    def _tls(self) -> ssl.SSLContext:
        # Built once per sender: loading the CA store costs ~0.1 s.
        if self._context is None:
            context = ssl.create_default_context()
            if not self.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._context = context
        return self._context

    def _classify(self, exc: smtplib.SMTPException | OSError) -> SendResult:
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            retry = any(smtp_retryable(c) for c in codes)
            code, reply = next(iter(exc.recipients.values()))
            return failure(self.label, f"smtp {code} {_text(reply)}", retryable=retry)
        if isinstance(exc, smtplib.SMTPResponseException):
            detail = f"smtp {exc.smtp_code} {_text(exc.smtp_error)}"
            return failure(self.label, detail, retryable=smtp_retryable(exc.smtp_code))
        if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
            return failure(self.label, f"smtp: {type(exc).__name__}: {exc}", retryable=False)
        if isinstance(exc, TimeoutError):
            return failure(self.label, "smtp timeout", retryable=True)
        return failure(self.label, f"smtp: {type(exc).__name__}: {exc}", retryable=True)


@functools.cache
def _local_hostname() -> str:
    """The EHLO name, looked up once per process (smtplib would resolve it per connection)."""
    return socket.getfqdn()


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(raw.split())[:200]
