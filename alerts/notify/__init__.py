"""Notifiers: render an alert or digest per channel type and send it to a named channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.lazy import lazy_exports

if TYPE_CHECKING:
    from alerts.notify.base import Notifier, SendResult
    from alerts.notify.channels import ChannelNotifier, build_notifier
    from alerts.notify.fake import RecordingNotifier

__getattr__, __dir__ = lazy_exports(__name__)
__all__ = ["ChannelNotifier", "Notifier", "RecordingNotifier", "SendResult", "build_notifier"]
