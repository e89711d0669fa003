"""The delivery ledger in Redis: a JSON row per delivery, sorted-set indexes, leased claims."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import redis

from alerts.delivery.claim import (
    claim_value,
    holder_prefix,
    lease_ms,
    ms,
    seconds_left,
    split_value,
)
from alerts.delivery.ledger import FINAL, UNINDEXED, Begun, DeliveryRow, row_json
from alerts.delivery.ledger_lua import FINISHES_SCRIPT, LEDGER_SCRIPT
from alerts.redis_conn import Durability
from alerts.redis_pack import float_text

# About one write in this many trims the indexes it touches (sampled by row id: see ledger_lua).
TRIM_ONE_IN = 16


class RedisLedger:
    """Rows as JSON strings; ``idx:all``, ``idx:watch:W``, ``idx:status:S`` (final statuses
    but ``UNINDEXED``) and ``wake`` (the rows in flight, by wake time) zsets."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        ttl_seconds: float,
        durability: Durability | None = None,
    ) -> None:
        self.r = client
        self.p = prefix
        self.ttl = int(ttl_seconds)
        self.durability = durability or Durability()
        self._script = client.register_script(LEDGER_SCRIPT)
        self._finishes = client.register_script(FINISHES_SCRIPT)

    def get(self, rid: str) -> DeliveryRow | None:
        """The row with id ``rid``, if any."""
        return row_of(self.r.get(f"{self.p}row:{rid}"))

    def save(self, row: DeliveryRow, *, force: bool = False) -> bool:
        """Write the row and its indexes atomically, unless that would demote a final row."""
        return self._run("save", row, force=force)[0] == 1

    def lookup(self, rid: str, now: datetime) -> tuple[DeliveryRow | None, float | None]:
        """The row and the seconds left on its claim (one GET: the claim is in the value)."""
        return looked_up(self.r.get(f"{self.p}row:{rid}"), now)

    def queue_lookup(self, pipe: Any, rid: str) -> None:
        """``lookup``'s GET queued on ``pipe``; ``looked_up`` reads its reply."""
        pipe.get(f"{self.p}row:{rid}")

    def insert(self, row: DeliveryRow) -> DeliveryRow | None:
        """Write ``row`` unless its id has a row already; returns that row (None: written)."""
        return inserted(self._run("insert", row))

    def begin_send(
        self, row: DeliveryRow, token: str, lease_seconds: float, now: datetime
    ) -> Begun:
        """Claim, re-read and write ``sending`` in one script (see ``ledger_lua``)."""
        return begun_of(*self._run("begin", row, claim=claim_args(token, lease_seconds, now)))

    def confirm_claim(self) -> None:
        """With ``durability``: return once the replicas hold every write made so far, the
        claim just taken included (``NotReplicated`` otherwise). A write of our own, then
        ``WAIT`` on its connection: replication keeps the master's order, so a replica that
        holds this write holds the claim. One round trip, none without replicas."""
        if self.durability.replicas <= 0:
            return
        with self.r.pipeline(transaction=False) as pipe:
            pipe.incr(f"{self.p}replicated")
            self.durability.execute(pipe)

    def finish(self, row: DeliveryRow, token: str) -> bool:
        """Save ``row`` (never demoting a final one) and drop the claim, atomically."""
        return self._run("finish", row, claim=_finishing(token))[0] == 1

    def finish_all(
        self, done: Sequence[tuple[DeliveryRow, str]], threads: Sequence[tuple[str, str, int]] = ()
    ) -> list[bool]:
        """``finish`` each (row, token) in one script call (``FINISHES_SCRIPT``), after writing
        each (key, ref, TTL) of ``threads`` unless its key is there; True for a row written."""
        keys: list[str] = []
        args: list[Any] = [len(done)]
        for row, token in done:
            row_keys, row_args = self.keys_args("finish", row, claim=_finishing(token))
            keys += row_keys
            args += row_args
        for key, ref, ttl in threads:
            keys.append(key)
            args += [ref, ttl]
        return [int(code) == 1 for code in self._finishes(keys=keys, args=args)]

    def release(self, rid: str, token: str) -> None:
        """Drop the claim if ``token`` still holds it (the script's ``release`` mode)."""
        keys = [f"{self.p}row:{rid}", "", "", "", ""]
        self._script(keys=keys, args=["release", *[""] * 11, holder_prefix(token), 0, "0", "0"])

    def _run(
        self, mode: str, row: DeliveryRow, *, force: bool = False, claim: list[Any] | None = None
    ) -> tuple[int, Any]:
        keys, args = self.keys_args(mode, row, force=force, claim=claim)
        code, value = self._script(keys=keys, args=args)
        return int(code), value

    def keys_args(
        self, mode: str, row: DeliveryRow, *, force: bool = False, claim: list[Any] | None = None
    ) -> tuple[list[str], list[Any]]:
        """The keys and arguments of ``LEDGER_SCRIPT`` in ``mode`` for ``row``."""
        created = row.created_at.timestamp()
        keys = [
            f"{self.p}row:{row.id}",
            f"{self.p}idx:all",
            f"{self.p}idx:watch:{row.watch}",
            f"{self.p}wake",
        ]
        wake = float_text(row.wake_at.timestamp()) if row.wake_at is not None else ""
        args: list[Any] = [
            mode,
            row_json(row),
            row.status,
            row.id,
            float_text(created),
            self.ttl,
            "(" + float_text(created - self.ttl),
            wake,
            "1" if force else "0",
            f"{self.p}idx:status:",
            *(claim or ["", 0, "", 0]),
            "1" if row.possible_duplicate else "0",
            "1" if zlib.crc32(row.id.encode()) % TRIM_ONE_IN == 0 else "0",
        ]
        return keys, args

    def query(
        self, *, watch: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[DeliveryRow]:
        """Rows, newest first; walks the narrowest index and filters the rest. A status in
        flight walks ``wake`` (the latest wake times first), each page sorted by creation."""
        index = f"{self.p}idx:all"
        if status in UNINDEXED:
            index = f"{self.p}idx:watch:{watch}" if watch is not None else index
        elif status is not None:
            index = f"{self.p}idx:status:{status}" if status in FINAL else f"{self.p}wake"
        elif watch is not None:
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
        if index.endswith("wake"):
            out.sort(key=lambda row: row.created_at, reverse=True)
        return out[:limit]

    def waking(self, now: datetime, limit: int = 100) -> list[DeliveryRow]:
        """Rows whose wake time has passed, oldest first."""
        ids = self.r.zrangebyscore(f"{self.p}wake", "-inf", now.timestamp(), start=0, num=limit)
        return self._load(ids, f"{self.p}wake")

    def _load(self, ids: list[Any], index: str) -> list[DeliveryRow]:
        if not ids:
            return []
        raws = self.r.mget([f"{self.p}row:{_text(i)}" for i in ids])
        rows = []
        for rid, raw in zip(ids, raws, strict=True):
            if raw is None:  # the row expired: drop the stale index entry
                self.r.zrem(index, rid)
                continue
            rows.append(_row(raw))
        return rows


def oldest_open(client: redis.Redis, prefix: str, chunk: int = 500) -> float | None:
    """The creation time (epoch seconds) of the oldest row in flight, None without one.

    The rows in flight are ``wake``'s members (scored by wake time, not creation): their
    creation scores are read from ``idx:all`` (ZMSCORE), a chunk per round trip; a member
    whose entry is gone (its row expired) does not count."""
    oldest: float | None = None
    start = 0
    while True:
        ids: list[Any] = list(client.zrange(f"{prefix}wake", start, start + chunk - 1))
        if not ids:
            return oldest
        scores: list[Any] = list(client.zmscore(f"{prefix}idx:all", ids))
        found = [float(score) for score in scores if score is not None]
        if found:
            oldest = min(found) if oldest is None else min(oldest, *found)
        start += chunk


def claim_args(token: str, lease_seconds: float, now: datetime) -> list[Any]:
    """The claim arguments of ``begin`` (ARGV 11-14)."""
    return [claim_value(token, now, lease_seconds), ms(now), "", lease_ms(lease_seconds)]


def _finishing(token: str) -> list[Any]:
    """The claim arguments of ``finish`` (ARGV 11-14): only the holder's prefix, to drop it."""
    return ["", 0, holder_prefix(token), 0]


def begun_of(code: Any, value: Any) -> Begun:
    """``begin``'s reply as a ``Begun``."""
    code = int(code)
    if code == 2:
        return Begun("held", left=int(value) / 1000)
    if code == 3:
        return Begun("finished", status=_text(value))
    return Begun("lapsed") if code == 4 else Begun("claimed")


def looked_up(raw: Any, now: datetime) -> tuple[DeliveryRow | None, float | None]:
    """What ``lookup`` answers, from its GET reply: the row and the seconds left on its claim."""
    if not raw:
        return None, None
    claim, _ = split_value(raw)
    return _row(raw), seconds_left(claim, now)


def inserted(reply: Any) -> DeliveryRow | None:
    """What ``insert`` answers, from the script's reply: the row found, or None (written)."""
    code, raw = reply
    return None if int(code) == 1 else _row(raw)


def row_of(raw: Any) -> DeliveryRow | None:
    """A stored row value (its claim, if any, left out) as a row; None for no value."""
    return _row(raw) if raw else None


def _row(raw: Any) -> DeliveryRow:
    return DeliveryRow.model_validate_json(split_value(raw)[1])


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
