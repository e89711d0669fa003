"""The delivery ledger: one row per (alert, channel), plus the send claims that guard it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, get_args

from pydantic import Field

from alerts.delivery.claim import claim_value, held_by, seconds_left
from alerts.models import Alert, Frozen, assert_unvalidated, constructed

# The one list of statuses: the CLI, the console, the metrics and the Lua (FINAL) read these.
Status = Literal["pending", "sending", "sent", "retrying", "dead", "silenced", "digested"]
STATUSES: tuple[Status, ...] = get_args(Status)
FINAL: frozenset[Status] = frozenset({"sent", "dead", "silenced", "digested"})
# Final statuses with no index of their own in Redis: ``sent``, nearly every row, is listed by
# walking ``idx:all`` and counted as what the other indexes leave of it (a ZADD per delivery).
UNINDEXED: frozenset[Status] = frozenset({"sent"})


def demotes(current: str, new: str) -> bool:
    """True when writing ``new`` over ``current`` would undo a finished delivery.

    Workers and the reconciler write rows they read earlier; without this rule a stale write
    (say the reconciler's ``pending`` with a new wake time) could land on ``sent`` and cause a
    second send. Only an operator's replay may move a final row back (``force``).
    """
    return current in FINAL and new not in FINAL


def row_id(delivery_key: str) -> str:
    """A short, stable id for a delivery key (what operators type in ``deadletter replay``)."""
    return hashlib.sha256(delivery_key.encode()).hexdigest()[:16]


class DeliveryRow(Frozen):
    """What happened to one alert on one channel. Holds no secret."""

    id: str
    key: str = Field(description="watch|item|channel")
    watch: str
    item_id: str
    channel: str
    status: Status
    attempts: int = 0
    created_at: datetime
    updated_at: datetime
    next_attempt_at: datetime | None = None
    wake_at: datetime | None = Field(default=None, description="When the reconciler looks again.")
    sent_at: datetime | None = None
    last_error: str = ""
    detail: str = ""
    possible_duplicate: bool = Field(default=False, description="Resent after a lost claim.")
    story: str | None = None
    thread_ref: str | None = None
    alert: Alert

    @classmethod
    def new(
        cls, alert: Alert, channel: str, now: datetime, wake_at: datetime | None = None
    ) -> DeliveryRow:
        """A fresh ``pending`` row (woken at ``wake_at``, if given).

        Values of the exact types the fields hold (what the hand-on passes for every alert)
        are set as they are, over the fields' defaults, as validation would keep them (no
        validator of ours on this model); any other value goes through validation, as before."""
        key = alert.delivery_key(channel)
        given = {
            "id": row_id(key), "key": key, "watch": alert.watch, "item_id": alert.item.id,
            "channel": channel, "status": "pending", "created_at": now, "updated_at": now,
            "wake_at": wake_at, "alert": alert,
        }  # fmt: skip
        if (
            cls is DeliveryRow
            and type(alert) is Alert
            and type(channel) is str
            and type(now) is datetime
            and (wake_at is None or type(wake_at) is datetime)
        ):
            values = _DEFAULTS.copy()  # every field, in order
            values.update(given)
            return constructed(cls, values, set(given))
        return cls(**given)

    def moved(self, status: Status, now: datetime, **changes: object) -> DeliveryRow:
        """A copy in ``status``, stamped ``now``; final statuses clear the wake time."""
        wake = changes.pop("wake_at", None if status in FINAL else self.wake_at)
        return self.model_copy(
            update={"status": status, "updated_at": now, "wake_at": wake, **changes}
        )


# A new row's values before ``DeliveryRow.new`` sets its own: each field's default, in order
# (the fields without one are all set there; no default is made by a factory).
_DEFAULTS = {name: field.default for name, field in DeliveryRow.model_fields.items()}
assert not any(field.default_factory for field in DeliveryRow.model_fields.values())
assert_unvalidated(DeliveryRow)

_ALERT_LAST = {"alert"}  # DeliveryRow's last field (checked below): its JSON ends the row's
assert list(DeliveryRow.model_fields)[-1] == "alert"
_ROW_JSON = DeliveryRow.__pydantic_serializer__.to_json  # what ``model_dump_json`` decodes
_ALERT_JSON = Alert.__pydantic_serializer__.to_json  # the schema a row's alert is dumped by
_ALERTS: dict[int, tuple[Alert, bytes]] = {}  # id -> the alert (held: its id not reused), JSON
_ALERTS_KEPT = 256
_ALERT_KEPT_BYTES = 64 * 1024  # at most 16 MiB held, however long the items


def row_json(row: DeliveryRow) -> bytes:
    """``row.model_dump_json()`` in UTF-8 (as Redis is sent it): the row's own fields, then its
    alert's JSON as ``alert_json`` keeps it. The alert (its item and hits) is most of a row's
    JSON, and a hand-on writes each row three times (recorded, claimed, finished): the alert
    is dumped once."""
    own = _ROW_JSON(row, exclude=_ALERT_LAST)
    return b"".join((own[:-1], b',"alert":', alert_json(row.alert), b"}"))


def alert_json(alert: Alert) -> bytes:
    """``alert.model_dump_json()`` in UTF-8, kept for the last alerts dumped, by identity (a
    frozen model; an equal alert, say a datetime in another zone, may dump otherwise)."""
    kept = _ALERTS.get(id(alert))
    if kept is not None and kept[0] is alert:
        return kept[1]
    text = _ALERT_JSON(alert)
    if len(text) > _ALERT_KEPT_BYTES:  # a long item is not held after its task
        return text
    if len(_ALERTS) >= _ALERTS_KEPT:
        _ALERTS.clear()
    _ALERTS[id(alert)] = (alert, text)
    return text


@dataclass(frozen=True)
class Begun:
    """How ``begin_send`` ended.

    ``claimed``: the claim is ours and ``sending`` is written. ``held``: another worker holds
    the claim for ``left`` more seconds. ``finished``: the row is final already (``status``), the
    claim is dropped. ``lapsed``: the row was left ``sending`` by a claim that ran out, and the
    caller's row is not flagged a possible duplicate: the claim is ours, nothing was written.
    """

    outcome: Literal["claimed", "held", "finished", "lapsed"]
    left: float = 0.0
    status: str = ""


class Ledger(Protocol):
    """Storage of rows and claims; Redis in production, memory in unit tests."""

    def get(self, rid: str) -> DeliveryRow | None:
        """The row with id ``rid``, if any."""
        ...

    def save(self, row: DeliveryRow, *, force: bool = False) -> bool:
        """Insert or replace a row; a final row is never demoted unless ``force`` (see demotes)."""
        ...

    def query(
        self, *, watch: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[DeliveryRow]:
        """Rows, newest first, optionally filtered."""
        ...

    def waking(self, now: datetime, limit: int = 100) -> list[DeliveryRow]:
        """Rows whose ``wake_at`` has passed, oldest first."""
        ...

    def release(self, rid: str, token: str) -> None:
        """Drop the claim if ``token`` still holds it."""
        ...

    def lookup(self, rid: str, now: datetime) -> tuple[DeliveryRow | None, float | None]:
        """The row and the seconds left on its claim, in one read."""
        ...

    def insert(self, row: DeliveryRow) -> DeliveryRow | None:
        """Write ``row`` unless its id has a row already; returns that row (None: written)."""
        ...

    def begin_send(
        self, row: DeliveryRow, token: str, lease_seconds: float, now: datetime
    ) -> Begun:
        """Claim the row, re-read it under the claim and write ``row`` (``sending``): one step."""
        ...

    def confirm_claim(self) -> None:
        """Return once the claim just taken would survive a failover (``NotReplicated`` else)."""
        ...

    def finish(self, row: DeliveryRow, token: str) -> bool:
        """Save ``row`` (never demoting a final one); drop the claim ``token`` holds (a row made
        final keeps no claim: nothing claims it again)."""
        ...


class MemoryLedger:
    """A ledger in a dict, for unit tests and dry runs."""

    def __init__(self) -> None:
        self.rows: dict[str, DeliveryRow] = {}
        self.claims: dict[str, str] = {}  # row id -> claim (see alerts.delivery.claim)

    def get(self, rid: str) -> DeliveryRow | None:
        """The row with id ``rid``, if any."""
        return self.rows.get(rid)

    def save(self, row: DeliveryRow, *, force: bool = False) -> bool:
        """Insert or replace a row, unless that would demote a final one; a forced save of a
        row in flight (a replay) drops any claim left on it."""
        current = self.rows.get(row.id)
        if not force and current is not None and demotes(current.status, row.status):
            return False
        self.rows[row.id] = row
        if force and row.status not in FINAL:
            self.claims.pop(row.id, None)
        return True

    def query(
        self, *, watch: str | None = None, status: str | None = None, limit: int = 100
    ) -> list[DeliveryRow]:
        """Rows, newest first, optionally filtered."""
        rows = sorted(self.rows.values(), key=lambda r: r.created_at, reverse=True)
        picked = [
            r
            for r in rows
            if (watch is None or r.watch == watch) and (status is None or r.status == status)
        ]
        return picked[:limit]

    def waking(self, now: datetime, limit: int = 100) -> list[DeliveryRow]:
        """Rows whose ``wake_at`` has passed, oldest first."""
        due = [r for r in self.rows.values() if r.wake_at is not None and r.wake_at <= now]
        return sorted(due, key=lambda r: r.wake_at or now)[:limit]

    def release(self, rid: str, token: str) -> None:
        """Drop the claim if ``token`` still holds it."""
        if held_by(self.claims.get(rid), token):
            del self.claims[rid]

    def lookup(self, rid: str, now: datetime) -> tuple[DeliveryRow | None, float | None]:
        """The row and the seconds left on its claim."""
        return self.get(rid), seconds_left(self.claims.get(rid), now)

    def insert(self, row: DeliveryRow) -> DeliveryRow | None:
        """Write ``row`` unless a row with its id exists (then return that one)."""
        current = self.rows.get(row.id)
        if current is None:
            self.rows[row.id] = row
        return current

    def begin_send(
        self, row: DeliveryRow, token: str, lease_seconds: float, now: datetime
    ) -> Begun:
        """Claim, re-read under the claim, write ``sending`` (the reference for Redis' Lua).
        A final row is never claimed."""
        current = self.rows.get(row.id)
        if current is not None and current.status in FINAL:
            return Begun("finished", status=current.status)
        left = seconds_left(self.claims.get(row.id), now)
        if left is not None:
            return Begun("held", left=left)
        self.claims[row.id] = claim_value(token, now, lease_seconds)
        if current is not None and current.status == "sending" and not row.possible_duplicate:
            return Begun("lapsed")
        self.save(row)
        return Begun("claimed")

    def confirm_claim(self) -> None:
        """Memory has no replicas."""

    def finish(self, row: DeliveryRow, token: str) -> bool:
        """Save ``row`` unless that demotes a final row; its claim is released, and a row made
        final keeps no claim at all (as the Lua: the claim is in the row's value there)."""
        saved = self.save(row)
        if saved and row.status in FINAL:
            self.claims.pop(row.id, None)
        else:
            self.release(row.id, token)
        return saved
