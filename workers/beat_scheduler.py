"""RedBeat, steadied: the active beat rides out a Redis restart instead of exiting.

RedBeat extends its lock at the start of every tick with a plain redis-py call, outside its
own retry (``redbeat_redis_options.retry_period`` covers only the schedule reads). A Redis
restart then raises ``ConnectionError`` out of ``tick`` and Celery's beat exits; with no
beat, nothing re-queues a delivery whose task was lost. Here a tick that cannot reach Redis
schedules nothing and is tried again shortly, and a lock that lapsed meanwhile is taken back
if it is free, else this beat stands by (another one took over).
"""

from __future__ import annotations

import logging
from typing import Any

from redbeat.schedulers import RedBeatScheduler
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class SteadyRedBeatScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat whose tick survives Redis outages and a lapsed lock."""

    def tick(self, min: Any = min, **kwargs: Any) -> float:
        """One tick of RedBeat's; an unreachable Redis or a lost lock skips this one."""
        try:
            return float(super().tick(min=min, **kwargs))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("beat: Redis unreachable (%s); nothing scheduled, trying again", exc)
            return RETRY_SECONDS
        except LockError:
            return self._retake_lock()

    def _retake_lock(self) -> float:
        """The lock lapsed (e.g. during an outage): take it back if it is free, else stand by."""
        try:
            if self.lock is not None and self.lock.acquire(blocking=False):
                log.warning("beat: lock lapsed and was taken back; scheduling again")
                return RETRY_SECONDS
        except (RedisConnectionError, RedisTimeoutError):
            return RETRY_SECONDS
        log.warning("beat: another beat holds the lock; standing by")
        return float(self.max_interval)
