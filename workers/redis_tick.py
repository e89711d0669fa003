"""kombu's Redis channel with what its poller asks for on every loop iteration kept at hand.

Before each poll kombu's ``MultiChannelPoller.on_poll_start`` asks every channel (a worker
without gossip has two: tasks and remote control) for its consumed queues and its clients.
kombu built the queue list anew each time, and its ``cached_property`` is a data descriptor
behind a lock, run on every read: a dozen lock round trips and three new lists per task
message in the pool parent.
"""

from __future__ import annotations

import functools

from kombu.transport import redis as kombu_redis


class TickChannel(kombu_redis.Channel):
    """kombu's channel; its clients and consumed queues cached the plain way."""

    # Kept in the instance's __dict__ where kombu looks for them (``__dict__.get("client")``).
    client = functools.cached_property(kombu_redis.Channel.client.func)
    subclient = functools.cached_property(kombu_redis.Channel.subclient.func)
    _consumed: list[str] | None = None  # ``active_queues``, until the consumers change

    @property
    def active_queues(self) -> list[str]:
        """kombu's list, built again only after the consumed queues change."""
        if self._consumed is None:
            self._consumed = super().active_queues
        return self._consumed

    def _update_queue_cycle(self) -> None:
        self._consumed = None  # kombu calls this after every change of the consumed queues
        super()._update_queue_cycle()
