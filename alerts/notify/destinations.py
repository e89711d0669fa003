"""Turns one configured Apprise URL into the sender(s) that serve it."""

from __future__ import annotations

from typing import Any

import apprise
from apprise.plugins.email import NotifyEmail
from apprise.plugins.slack import NotifySlack

import alerts.notify.console  # noqa: F401 - registers console://
from alerts.clock import Clock
from alerts.notify.generic import AppriseSender
from alerts.notify.scrub import protect
from alerts.notify.settings import NotifySettings
from alerts.notify.slack import SlackSender, endpoint
from alerts.notify.smtp import SmtpSender
from alerts.notify.transport import Sender

_SLACK_MODES = ("hook", "gov-hook", "bot")


def make_senders(url: str, settings: NotifySettings, clock: Clock) -> list[Sender]:
    """Senders for one URL (Slack: one per channel); ValueError, secret-free, if it is invalid."""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValueError("not a valid Apprise URL (scheme unknown or required parts missing)")
    privacy = str(plugin.url(privacy=True))
    protect(url, privacy)
    label = privacy.partition("?")[0].rstrip("/")  # the query is only Apprise options: noise
    if isinstance(plugin, NotifyEmail):
        return [SmtpSender(plugin, label=label, timeout=settings.smtp_timeout, clock=clock)]
    if isinstance(plugin, NotifySlack) and plugin.mode in _SLACK_MODES:
        return list(_slack_senders(plugin, label, settings, clock))
    return [AppriseSender(plugin, label=label)]


def _slack_senders(
    plugin: Any, label: str, settings: NotifySettings, clock: Clock
) -> list[SlackSender]:
    if settings.slack_webhook_base and plugin.mode == "hook":
        # On the instance only: the class attribute stays Slack's for every other user.
        plugin.webhook_url = settings.slack_webhook_base
    targets: list[str | None] = list(plugin.channels) or [None]
    if plugin.mode == "bot" and targets == [None]:
        raise ValueError("a Slack bot-token URL needs at least one #channel")
    url = endpoint(
        plugin, webhook_base=settings.slack_webhook_base, api_base=settings.slack_api_base
    )
    return [
        SlackSender(
            plugin,
            target,
            url=url,
            label=label if len(targets) == 1 else f"{label} [{target}]",
            timeout=settings.http_timeout,
            clock=clock,
        )
        for target in targets
    ]
