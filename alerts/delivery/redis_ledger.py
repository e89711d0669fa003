"""The delivery ledger in Redis: a JSON row per delivery, sorted-set indexes, leased claims."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import redis

from alerts.delivery.ledger import STATUSES, DeliveryRow, demotes

# A claim is "token|expiry_ms". It is taken when absent or expired by the *injected* clock, so
# tests under a frozen clock behave like production; PX is set too, so Redis reclaims the key.
_CLAIM = """
local cur = redis.call('GET', KEYS[1])
if cur then
  local exp = tonumber(string.match(cur, '|(%d+)$'))
  if exp and exp > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[3], 'PX', ARGV[4])
return 1
"""
_RELEASE = """
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. '|' then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


class RedisLedger:
    """Rows as JSON strings; ``idx:all``, ``idx:status:S``, ``idx:watch:W`` and ``wake`` zsets."""

    def __init__(self, client: redis.Redis, prefix: str, ttl_seconds: float) -> None:
        self.r = client
        self.p = prefix
        self.ttl = int(ttl_seconds)
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def get(self, rid: str) -> DeliveryRow | None:
        """The row with id ``rid``, if any."""
        raw = self.r.get(f"{self.p}row:{rid}")
        return DeliveryRow.model_validate_json(raw) if raw else None  # type: ignore[arg-type]

    def save(self, row: DeliveryRow, *, force: bool = False) -> bool:
        """Write the row and its indexes atomically, unless that would demote a final row."""
        key = f"{self.p}row:{row.id}"
        with self.r.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    if not force and self._would_demote(pipe.get(key), row):
                        pipe.unwatch()
                        return False
                    pipe.multi()
                    self._write(pipe, key, row)
                    pipe.execute()
                    return True
                except redis.WatchError:  # another worker wrote the row meanwhile: look again
                    continue

    @staticmethod
    def _would_demote(raw: Any, row: DeliveryRow) -> bool:
        if not raw:
            return False
        return demotes(json.loads(raw).get("status", ""), row.status)

    def _write(self, pipe: Any, key: str, row: DeliveryRow) -> None:
        created = row.created_at.timestamp()
        pipe.set(key, row.model_dump_json(), ex=self.ttl)
        pipe.zadd(f"{self.p}idx:all", {row.id: created})
        pipe.zadd(f"{self.p}idx:watch:{row.watch}", {row.id: created})
        for status in STATUSES:
            if status != row.status:
                pipe.zrem(f"{self.p}idx:status:{status}", row.id)
        pipe.zadd(f"{self.p}idx:status:{row.status}", {row.id: created})
        # Rows expire after the TTL; drop index entries older than that as we go.
        cutoff = f"({created - self.ttl}"
        for index in ("idx:all", f"idx:watch:{row.watch}", f"idx:status:{row.status}"):
            pipe.zremrangebyscore(f"{self.p}{index}", "-inf", cutoff)
        if row.wake_at is None:
            pipe.zrem(f"{self.p}wake", row.id)
        else:
            pipe.zadd(f"{self.p}wake", {row.id: row.wake_at.timestamp()})

    def query(
        self, *, watch: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[DeliveryRow]:
        """Rows, newest first; walks the narrowest index and filters the rest."""
        index = f"{self.p}idx:status:{status}" if status else f"{self.p}idx:all"
        if watch is not None and status is None:
            index = f"{self.p}idx:watch:{watch}"
        out: list[DeliveryRow] = []
        start = 0
        while len(out) < limit:
            ids = self.r.zrevrange(index, start, start + 499)
            if not ids:
                break
            start += len(ids)
            for row in self._load(ids, index):
                if (watch is None or row.watch == watch) and (status in (None, row.status)):
                    out.append(row)
        return out[:limit]

    def waking(self, now: datetime, limit: int = 100) -> list[DeliveryRow]:
        """Rows whose wake time has passed, oldest first."""
        ids = self.r.zrangebyscore(f"{self.p}wake", "-inf", now.timestamp(), start=0, num=limit)
        return self._load(ids, f"{self.p}wake")

    def claim(self, rid: str, token: str, lease_seconds: float, now: datetime) -> bool:
        """Take the claim (Lua: absent or expired by the injected clock)."""
        lease_ms = max(1, int(lease_seconds * 1000))
        args: list[str | int] = [token, _ms(now), _ms(now) + lease_ms, lease_ms]
        return bool(self._claim(keys=[f"{self.p}claim:{rid}"], args=args))

    def claim_left(self, rid: str, now: datetime) -> float | None:
        """Seconds left on the claim, None when there is none."""
        raw = self.r.get(f"{self.p}claim:{rid}")
        if not raw:
            return None
        expiry = int(bytes(raw).rsplit(b"|", 1)[1])  # type: ignore[arg-type]
        left = (expiry - _ms(now)) / 1000
        return left if left > 0 else None

    def release(self, rid: str, token: str) -> None:
        """Drop the claim if ``token`` still holds it."""
        self._release(keys=[f"{self.p}claim:{rid}"], args=[token])

    def _load(self, ids: list[Any], index: str) -> list[DeliveryRow]:
        if not ids:
            return []
        raws = self.r.mget([f"{self.p}row:{_text(i)}" for i in ids])
        rows = []
        for rid, raw in zip(ids, raws, strict=True):
            if raw is None:  # the row expired: drop the stale index entry
                self.r.zrem(index, rid)
                continue
            rows.append(DeliveryRow.model_validate_json(raw))
        return rows


def utc(ts: float) -> datetime:
    """An aware UTC datetime from a Unix timestamp."""
    return datetime.fromtimestamp(ts, UTC)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
