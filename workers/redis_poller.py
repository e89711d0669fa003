"""kombu's Redis poller for ``workers/redis_transport``: before the event loop waits, the
records and acks the channels hold are sent (``Channel.flush_due``); acks held alone go with a
timer the first of them arms (``ACK_HOLD_SECONDS``), one at a time.

In a worker's event loop the record of a message ``BRPOP`` took and the acks are held until the
loop is about to wait again (``Poller.on_poll_start``, the end of the same loop
iteration): then all of them go in one round trip (``redis_wire``: hiredis-packed, no redis-py
pipeline). Acks made while a message is awaited, with no record to ride along, wait for the next
one (the next message's record or pop) or a timer the first of them arms (``ACK_HOLD_SECONDS``;
an idle worker keeps none; disarmed once a record or pop took them): a task message costs one
round trip for its record and ack, not two.
A worker killed meanwhile has its tasks of the last ``ACK_HOLD_SECONDS`` run again after the
visibility timeout, as duplicates, which the delivery ledger flags. A message acked before its
record went out needs neither; a requeue (a pool child lost with its task) writes the held
records first, as it restores from them. The window in which a SIGKILLed worker loses a message
``BRPOP`` took is kombu's own (pop, then record), a few hundred microseconds of this iteration,
with no wait for Redis in it; the API's intake brings such a message back (README,
"Reliability").
"""

from __future__ import annotations

import heapq
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
        """Drop the pending flush (nothing is held any more, or the loop it was on is being
        replaced), and its entry in the loop's timers: a cancelled entry left there still sets
        the loop's next wake-up (kombu's ``Timer`` skips it only once it is due)."""
        entry, self._armed = self._armed, None
        if entry is None:
            return
        entry.cancel()
        queue = getattr(getattr(self.loop, "timer", None), "_queue", None)
        if queue is None:
            return
        try:  # kombu's private heap of (eta, priority, entry): another layout keeps the entry
            kept = [scheduled for scheduled in queue if scheduled[2] is not entry]
        except (TypeError, IndexError, KeyError):
            return  # cancelled all the same: the loop skips it once due, as kombu does
        if len(kept) < len(queue):
            heapq.heapify(kept)
            queue[:] = kept  # in place: the loop's scheduler holds this list

    def _fire(self) -> None:
        self._armed = None
        self.flush_held()

    def on_poll_start(self) -> None:
        """Start the pops (they carry the held acks), then flush what is due."""
        super().on_poll_start()
        for channel in self._channels:
            channel.flush_due()
        if self._armed is not None and not any(channel._acks for channel in self._channels):
            # A record or pop took the acks that armed it: left armed, the timer would wake the
            # loop for nothing, or send the acks of the next message alone before its record.
            self.disarm()

    def flush_held(self) -> None:
        """The loop's timer: send what every channel holds."""
        for channel in self._channels:
            try:
                channel.flush_acks()
            except channel.connection_errors:  # held again: the next flush sends them
                log.debug("held acks not sent yet", exc_info=True)
