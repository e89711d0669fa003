"""kombu's Redis poller for ``workers/redis_transport``: before the event loop waits, the
records and acks the channels hold are sent (``Channel.flush_due``); acks held alone go with a
timer the first of them arms (``ACK_HOLD_SECONDS``), one at a time."""

from __future__ import annotations

import logging
from typing import Any

from kombu.transport import redis as kombu_redis

log = logging.getLogger(__name__)
# Held acks with no record to ride along: sent by then (a timer the ack arms), if no record or pop
# has taken them first.
ACK_HOLD_SECONDS = 0.05


class Poller(kombu_redis.MultiChannelPoller):
    """kombu's poller; before the loop waits, the acks no pop took are sent."""

    in_loop = False  # polled by an event loop (``poll_start_hook``), not by drain_events
    loop: Any = None  # that loop (``Transport.register_with_event_loop``)
    _armed: Any = None  # the pending flush of held acks: one at a time, none while none held

    def arm(self) -> None:
        """Flush what the channels hold within ``ACK_HOLD_SECONDS`` (an idle worker keeps no
        timer: its loop is not woken for nothing)."""
        if self.loop is not None and self._armed is None:
            self._armed = self.loop.call_later(ACK_HOLD_SECONDS, self._fire)

    def disarm(self) -> None:
        """Drop the pending flush (the loop it was on is being replaced)."""
        if self._armed is not None:
            self._armed.cancel()
            self._armed = None

    def _fire(self) -> None:
        self._armed = None
        self.flush_held()

    def on_poll_start(self) -> None:
        """Start the pops (they carry the held acks), then flush what is due."""
        super().on_poll_start()
        for channel in self._channels:
            channel.flush_due()

    def flush_held(self) -> None:
        """The loop's timer: send what every channel holds."""
        for channel in self._channels:
            try:
                channel.flush_acks()
            except channel.connection_errors:  # held again: the next flush sends them
                log.debug("held acks not sent yet", exc_info=True)
