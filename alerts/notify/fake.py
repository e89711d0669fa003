"""A recording notifier: the fake beside the Apprise one, for tests and dry runs."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping

from alerts.models import Alert, Digest
from alerts.notify.base import SendResult


class RecordingNotifier:
    """Records every send; answers with scripted results per channel, else success."""

    def __init__(self, script: Mapping[str, Iterable[SendResult]] | None = None) -> None:
        self.sent: list[tuple[str, Alert | Digest, str | None]] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self._script = {ch: deque(results) for ch, results in (script or {}).items()}

    def send(
        self, channel: str, content: Alert | Digest, *, reply_to: str | None = None
    ) -> SendResult:
        """Pop the next scripted result for ``channel``; record the content when it succeeds."""
        self.attempts[channel] += 1
        queue = self._script.get(channel)
        result = queue.popleft() if queue else SendResult(ok=True)
        if result.ok:
            self.sent.append((channel, content, reply_to))
        return result
