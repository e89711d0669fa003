"""The real notifier: named channels, each served by its destinations' senders."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from jinja2 import TemplateError

from alerts.clock import Clock, system_clock
from alerts.errors import ConfigError
from alerts.models import Alert, Digest
from alerts.notify.base import SendResult
from alerts.notify.destinations import make_senders
from alerts.notify.render import Kind, Message, Renderer
from alerts.notify.settings import NotifySettings
from alerts.notify.transport import Sender

log = logging.getLogger(__name__)


class SentMemory:
    """Which destinations of a multi-URL channel already took a message (in this process).

    A retry of the channel then skips them, so a Slack failure never resends the email that went
    out. Bounded in size and age; delivery's ledger remains the cross-process record.
    """

    def __init__(self, clock: Clock, *, size: int = 10_000, ttl: timedelta = timedelta(days=1)):
        self.clock, self.size, self.ttl = clock, size, ttl
        self._seen: OrderedDict[tuple[str, int], datetime] = OrderedDict()
        self._lock = threading.Lock()  # a threads/gevent worker pool shares one notifier

    def seen(self, key: tuple[str, int]) -> bool:
        """True when ``key`` was marked less than ``ttl`` ago."""
        with self._lock:
            when = self._seen.get(key)
        return when is not None and self.clock() - when < self.ttl

    def mark(self, key: tuple[str, int]) -> None:
        """Remember ``key``; forget the oldest beyond ``size``."""
        with self._lock:
            self._seen[key] = self.clock()
            self._seen.move_to_end(key)
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)


def content_key(channel: str, content: Alert | Digest) -> str:
    """Identity of one message on one channel."""
    if isinstance(content, Alert):
        return content.delivery_key(channel)
    digest = hashlib.sha256(content.model_dump_json().encode()).hexdigest()[:20]
    return f"digest|{content.watch}|{channel}|{digest}"


def combine(results: Sequence[SendResult]) -> SendResult:
    """One result for a channel: ok when every destination is; retryable when any failure is."""
    if len(results) == 1:  # a one-destination channel: its result, when the rules keep it whole
        only = results[0]
        if only.retry_after is None and not (only.ok and only.retryable):
            return only
    thread = next((r.thread_ref for r in results if r.thread_ref), None)
    failed = [r for r in results if not r.ok]
    errors = "; ".join(r.error for r in (failed or results) if r.error)
    if not failed:
        return SendResult(ok=True, error=errors, thread_ref=thread)
    retry = [r for r in failed if r.retryable]
    waits = [r.retry_after for r in retry if r.retry_after is not None]
    return SendResult(
        ok=False,
        retryable=bool(retry),
        retry_after=max(waits) if waits else None,
        error=errors,
        thread_ref=thread,
    )


class ChannelNotifier:
    """Sends alerts and digests to named channels; implements ``Notifier``."""

    def __init__(
        self,
        destinations: Mapping[str, Sequence[Sender]],
        renderer: Renderer,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.destinations = {name: tuple(senders) for name, senders in destinations.items()}
        self.renderer = renderer
        self.memory = SentMemory(clock)

    def send(
        self, channel: str, content: Alert | Digest, *, reply_to: str | None = None
    ) -> SendResult:
        """Render once per channel type and send to every destination not yet served."""
        senders = self.destinations.get(channel)
        if not senders:
            return SendResult(ok=False, error=f"unknown channel {channel!r}")
        many = len(senders) > 1
        key = content_key(channel, content) if many else ""  # only multi-URL channels remember
        rendered: dict[Kind, Message] = {}
        results = []
        for index, sender in enumerate(senders):
            if many and self.memory.seen((key, index)):
                results.append(SendResult(ok=True))
                continue
            result = self._send_one(sender, content, rendered, reply_to)
            if result.ok and many:
                self.memory.mark((key, index))
            results.append(result)
        return combine(results)

    def _send_one(
        self,
        sender: Sender,
        content: Alert | Digest,
        rendered: dict[Kind, Message],
        reply_to: str | None,
    ) -> SendResult:
        try:
            if sender.kind not in rendered:
                rendered[sender.kind] = self.renderer.render(sender.kind, content)
        except TemplateError as exc:
            error = f"template error ({sender.kind}): {type(exc).__name__}: {exc}"
            log.error("cannot render for %s: %s", sender.label, error)
            return SendResult(ok=False, error=error[:500])
        result = sender.send(rendered[sender.kind], reply_to=reply_to)
        if result.ok:  # an alert's delivery line (``handoff``) says it with its ids: DEBUG here
            level = logging.INFO if isinstance(content, Digest) else logging.DEBUG
            if log.isEnabledFor(level):  # its text made only for a line written
                log.log(level, "sent %s to %s", _what(content), sender.label)
        else:
            log.warning("send to %s failed: %s", sender.label, result.error)
        return result


def _what(content: Alert | Digest) -> str:
    if isinstance(content, Digest):
        return f"digest {content.watch} ({content.total} alerts)"
    return f"alert {content.key}"


def build_notifier(
    channels: Mapping[str, Sequence[str]],
    notify: NotifySettings,
    *,
    console_url: str | None = None,
    clock: Clock = system_clock,
) -> ChannelNotifier:
    """The real notifier for ``channels`` (name -> Apprise URLs); ConfigError lists each bad
    URL, secret-free. Alerts link to ``console_url`` when it is set."""
    renderer = Renderer(
        notify.templates_dir, snippet_chars=notify.snippet_chars, console_url=console_url
    )
    problems: list[str] = []
    destinations: dict[str, list[Sender]] = {}
    for name, urls in channels.items():
        destinations[name] = []
        for number, url in enumerate(urls, start=1):
            try:
                destinations[name].extend(make_senders(url, notify, clock))
            except ValueError as exc:
                problems.append(f"channel {name!r} URL #{number}: {exc}")
    if problems:
        raise ConfigError(problems)
    return ChannelNotifier(destinations, renderer, clock=clock)
