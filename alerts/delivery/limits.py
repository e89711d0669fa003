"""Rate limits shared by every worker: the per-(watch, channel) throttle and per-channel pacing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import redis


@dataclass(frozen=True)
class Pace:
    """A pacing token to take for ``member`` on channel ``name`` (see ``Limits.take_token``)."""

    name: str
    rate: float
    burst: int
    member: str


class Limits(Protocol):
    """Counters behind the throttle and the token bucket."""

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` into a window of at most ``limit``; re-admitting one is free."""
        ...

    def take_token(self, name: str, now: datetime, rate: float, burst: int, member: str) -> float:
        """0.0: send now. Else the seconds until ``member``'s reserved slot; coming back at that
        time, ``member`` is let through without queueing again."""
        ...


class MemoryLimits:
    """The limits in dicts."""

    def __init__(self) -> None:
        self.windows: dict[str, set[str]] = {}
        self.buckets: dict[str, int] = {}
        self.reserved: dict[str, dict[str, int]] = {}

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` unless the window is full."""
        members = self.windows.setdefault(bucket, set())
        if member in members:
            return True
        if len(members) >= limit:
            return False
        members.add(member)
        return True

    def take_token(self, name: str, now: datetime, rate: float, burst: int, member: str) -> float:
        """Token bucket with reserved slots (see ``reserve``)."""
        now_ms = int(now.timestamp() * 1000)
        slots = self.reserved.setdefault(name, {})
        if member in slots:
            wait_ms = slots[member] - now_ms
            if wait_ms <= 0:
                del slots[member]
                return 0.0
            return wait_ms / 1000
        tat, wait_ms = reserve(self.buckets.get(name), now_ms, rate, burst)
        self.buckets[name] = tat
        if wait_ms > 0:
            slots[member] = now_ms + wait_ms
        return wait_ms / 1000


def reserve(tat: int | None, now_ms: int, rate: float, burst: int) -> tuple[int, int]:
    """A token bucket as GCRA, in ms: (next theoretical arrival time, wait for this caller).

    Each caller that must wait gets its own future slot, so a burst of queued sends retries once
    each instead of all at once.
    """
    interval = int(1000 / rate)
    tolerance = (burst - 1) * interval
    tat = max(tat if tat is not None else now_ms, now_ms)
    slot = max(now_ms, tat - tolerance)
    return tat + interval, slot - now_ms


_ADMIT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# Same arithmetic as ``reserve``; the time comes from the caller's injected clock (in ms).
# KEYS: the bucket, its reserved slots; ARGV: now ms, rate, burst, TTL ms, member.
TAKE = """
local now = tonumber(ARGV[1])
local slot = redis.call('HGET', KEYS[2], ARGV[5])
if slot then
  local wait = tonumber(slot) - now
  if wait <= 0 then redis.call('HDEL', KEYS[2], ARGV[5]) return 0 end
  return wait
end
local interval = math.floor(1000 / tonumber(ARGV[2]))
local tolerance = (tonumber(ARGV[3]) - 1) * interval
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
local wait = math.max(now, tat - tolerance) - now
redis.call('SET', KEYS[1], string.format('%d', tat + interval), 'PX', ARGV[4])
if wait > 0 then
  redis.call('HSET', KEYS[2], ARGV[5], string.format('%d', now + wait))
  redis.call('PEXPIRE', KEYS[2], wait + tonumber(ARGV[4]))
end
return wait
"""


class RedisLimits:
    """The limits as Lua scripts, so concurrent workers see one counter."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.p = prefix
        self._admit = client.register_script(_ADMIT)
        self._take = client.register_script(TAKE)

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` unless the window set is full."""
        ttl = int(window_seconds * 1000) + 60_000
        return bool(self._admit(keys=[f"{self.p}thr:{bucket}"], args=[member, limit, ttl]))

    def take_token(self, name: str, now: datetime, rate: float, burst: int, member: str) -> float:
        """Token bucket with reserved slots, one Lua call (see ``reserve``)."""
        keys, args = self.take_keys_args(name, now, rate, burst, member)
        return int(self._take(keys=keys, args=args)) / 1000

    def take_keys_args(
        self, name: str, now: datetime, rate: float, burst: int, member: str
    ) -> tuple[list[str], list[str | int | float]]:
        """The keys and arguments of ``TAKE`` for this take."""
        keys = [f"{self.p}pace:{name}", f"{self.p}pace:slots:{name}"]
        ttl = int(math.ceil(burst / rate) * 1000) + 60_000
        return keys, [int(now.timestamp() * 1000), rate, burst, ttl, member]
