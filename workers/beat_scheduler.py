"""RedBeat, steadied: the active beat rides out a Redis restart instead of exiting.

RedBeat extends its lock at the start of every tick with a plain redis-py call, outside its
own retry (``redbeat_redis_options.retry_period`` covers only the schedule reads). A Redis
restart then raises ``ConnectionError`` out of ``tick`` and Celery's beat exits; with no
beat, nothing re-queues a delivery whose task was lost. Here a tick that cannot reach Redis
schedules nothing and is tried again shortly, and a lock that lapsed meanwhile is taken back
if it is free, else this beat stands by (another one took over).

RedBeat writes the schedule's entries to Redis once, when the beat starts, and then only reads
them. A Redis that loses them (a failover to a replica they had not reached yet, a restart
without persistence) leaves the beat ticking on an empty schedule for good: it holds its lock
and sends nothing, the reconciler included, so a task lost in that failover stays lost (issue
16: the lagging-replica failover test). Each tick here first checks that every entry is still
in the schedule (one ``ZMSCORE``) and writes the missing ones again.
"""

from __future__ import annotations

import logging
from typing import Any

from redbeat.schedulers import RedBeatScheduler, get_redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0


class SteadyRedBeatScheduler(RedBeatScheduler):  # type: ignore[misc]
    """RedBeat whose tick survives Redis outages, a lapsed lock and a lost schedule."""

    def tick(self, min: Any = min, **kwargs: Any) -> float:
        """One tick of RedBeat's, on a schedule made whole again if Redis lost entries; an
        unreachable Redis or a lost lock skips this one."""
        try:
            self._restore_schedule()
            return float(super().tick(min=min, **kwargs))
        except (RedisConnectionError, RedisTimeoutError) as exc:
            log.warning("beat: Redis unreachable (%s); nothing scheduled, trying again", exc)
            return RETRY_SECONDS
        except LockError:
            return self._retake_lock()

    def _restore_schedule(self) -> None:
        """Write again the entries Redis lost (their last run kept where Redis still has it)."""
        entries = self.app.redbeat_conf.schedule
        if not entries:
            return
        keys = [self.Entry.generate_key(self.app, name) for name in entries]
        scores = get_redis(self.app).zmscore(self.app.redbeat_conf.schedule_key, keys)
        missing = sum(1 for score in scores if score is None)
        if missing:
            log.warning(
                "beat: %d of %d schedule entries missing from Redis (lost in a failover or a "
                "restart); written again", missing, len(keys),
            )  # fmt: skip
            self.update_from_dict(entries)

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
