"""Rate limits shared by every worker: the per-(watch, channel) throttle and per-channel pacing."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Protocol

import redis


class Limits(Protocol):
    """Counters behind the throttle and the token bucket."""

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` into a window of at most ``limit``; re-admitting one is free."""
        ...

    def take_token(self, name: str, now: datetime, rate: float, burst: int) -> float:
        """Take a token from bucket ``name``: 0.0 when taken, else the seconds to wait."""
        ...


class MemoryLimits:
    """The limits in dicts."""

    def __init__(self) -> None:
        self.windows: dict[str, set[str]] = {}
        self.buckets: dict[str, tuple[float, float]] = {}

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` unless the window is full."""
        members = self.windows.setdefault(bucket, set())
        if member in members:
            return True
        if len(members) >= limit:
            return False
        members.add(member)
        return True

    def take_token(self, name: str, now: datetime, rate: float, burst: int) -> float:
        """Token bucket refilled at ``rate`` per second up to ``burst``."""
        tokens, wait = refill(self.buckets.get(name), now.timestamp(), rate, burst)
        self.buckets[name] = (tokens, now.timestamp())
        return wait


def refill(state: tuple[float, float] | None, now: float, rate: float, burst: int) -> tuple:
    """Pure token-bucket step: (tokens left, seconds to wait) after one take at ``now``."""
    tokens, last = state if state is not None else (float(burst), now)
    tokens = min(float(burst), tokens + max(0.0, now - last) * rate)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate


_ADMIT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
"""

# Same arithmetic as ``refill``; the time comes from the caller's injected clock (in ms).
_TAKE = """
local now = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000.0
local burst = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return tostring(math.ceil(wait))
"""


class RedisLimits:
    """The limits as Lua scripts, so concurrent workers see one counter."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.p = prefix
        self._admit = client.register_script(_ADMIT)
        self._take = client.register_script(_TAKE)

    def admit(self, bucket: str, member: str, limit: int, window_seconds: float) -> bool:
        """Admit ``member`` unless the window set is full."""
        ttl = int(window_seconds * 1000) + 60_000
        return bool(self._admit(keys=[f"{self.p}thr:{bucket}"], args=[member, limit, ttl]))

    def take_token(self, name: str, now: datetime, rate: float, burst: int) -> float:
        """Token bucket in a hash; returns the wait in seconds (ms precision)."""
        ttl = int(math.ceil(burst / rate) * 1000) + 60_000
        args = [int(now.timestamp() * 1000), rate, burst, ttl]
        wait_ms = self._take(keys=[f"{self.p}pace:{name}"], args=args)
        return float(wait_ms) / 1000
