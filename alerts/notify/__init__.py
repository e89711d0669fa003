"""Notifiers: render an alert or digest per channel type and send it to a named channel."""

from alerts.notify.apprise_notifier import AppriseNotifier, build_notifier
from alerts.notify.base import Notifier, SendResult
from alerts.notify.fake import RecordingNotifier

__all__ = ["AppriseNotifier", "Notifier", "RecordingNotifier", "SendResult", "build_notifier"]
