"""kombu's Redis poller for ``workers/redis_transport``: before the event loop waits, the
records and acks the channels hold are sent (``Channel.flush_due``); acks held alone go with a
timer the first of them arms (``ACK_HOLD_SECONDS``), one at a time.

In a worker's event loop the record of a message ``BRPOP`` took and the acks are held until the
loop is about to wait again (``Poller.on_poll_start``, the end of the same loop
iteration): then all of them go in one round trip (``redis_wire``: hiredis-packed, no redis-py
pipeline). Acks made while a message is awaited, with no record to ride along, wait for the next
one (the next message's record or pop) or a timer the first of them arms (``ACK_HOLD_SECONDS``;
an idle worker keeps none): a task message costs one round trip for its record and ack, not two.
A worker killed meanwhile has its tasks of the last ``ACK_HOLD_SECONDS`` run again after the
visibility timeout, as duplicates, which the delivery ledger flags. A message acked before its
record went out needs neither; a requeue (a pool child lost with its task) writes the held
records first, as it restores from them. The window in which a SIGKILLed worker loses a message
``BRPOP`` took is kombu's own (pop, then record), a few hundred microseconds of this iteration,
with no wait for Redis in it; the API's intake brings such a message back (README,
"Reliability").
"""

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
