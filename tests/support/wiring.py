"""Wiring as the processes do it (workers/runtime.py): each package gets only its settings."""

from __future__ import annotations

from alerts.clock import Clock, system_clock
from alerts.notify.channels import ChannelNotifier, build_notifier
from alerts.settings import Settings


def notifier_from(settings: Settings, *, clock: Clock = system_clock) -> ChannelNotifier:
    """The real notifier from the settings' channels, notify section and console URL."""
    return build_notifier(
        settings.channel_map(), settings.notify, console_url=settings.console.url, clock=clock
    )
