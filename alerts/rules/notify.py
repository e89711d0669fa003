"""The ``notify:`` block of a watch rule, and the pure time rules it implies."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

_DAILY = re.compile(r"^daily(?: at (\d{1,2}):(\d{2}))?(?: (\S+))?$")


_NUMBER = r"(\d+(?:\.\d+)?)"
_DURATION = re.compile("^" + "".join(f"(?:{_NUMBER}{unit})?" for unit in "wdhms") + "$")
_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``30m``, ``2h``, ``1d``, ``2w``, ``1h30m``, ``1.5d`` into a positive
    timedelta (units largest first, each at most once): the one duration syntax of rules, the
    console, ``alerts silence`` and ``alerts rules backtest --since``."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise ValueError(f"invalid duration {text!r}: use forms like 90s, 30m, 2h, 1d, 1h30m")
    delta = timedelta(**{u: float(g) for u, g in zip(_UNITS, m.groups(), strict=True) if g})
    if delta <= timedelta(0):
        raise ValueError(f"invalid duration {text!r}: must be positive")
    return delta


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a readable ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Schedule(_Spec):
    """When a digest fires: a cron expression evaluated in a time zone."""

    cron: str
    tz: str = "UTC"

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """``hourly``, ``daily``, ``daily at 08:00 Europe/Kyiv``, or a cron line (``CRON [TZ]``)."""
        text = " ".join(text.split())
        if text == "hourly":
            return cls(cron="0 * * * *")
        m = _DAILY.match(text)
        if m:
            hour, minute, tz = int(m.group(1) or 8), int(m.group(2) or 0), m.group(3) or "UTC"
            if hour > 23 or minute > 59:
                raise ValueError(f"invalid time of day in schedule {text!r}")
            zone(tz)
            return cls(cron=f"{minute} {hour} * * *", tz=tz)
        parts = text.split(" ")
        cron, tz = (" ".join(parts[:-1]), parts[-1]) if len(parts) == 6 else (text, "UTC")
        if not croniter.is_valid(cron):
            raise ValueError(f"invalid schedule {text!r}: use hourly, 'daily at HH:MM TZ' or cron")
        zone(tz)
        return cls(cron=cron, tz=tz)

    def next_after(self, now: datetime) -> datetime:
        """The first firing strictly after ``now`` (aware UTC in, aware datetime out)."""
        start = now.astimezone(zone(self.tz))
        fire: datetime = croniter(self.cron, start).get_next(datetime)
        return fire


class Throttle(_Spec):
    """At most ``max`` immediate messages per ``per`` window per (watch, channel)."""

    max: int = Field(ge=1)
    per: str = "1h"

    @field_validator("per")
    @classmethod
    def _per(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def window(self) -> timedelta:
        """The window as a timedelta."""
        return parse_duration(self.per)


class QuietHours(_Spec):
    """A daily span (``start`` to ``end``, local time in ``tz``) when nothing is sent."""

    start: time
    end: time
    tz: str = "UTC"

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        zone(value)
        return value

    def end_if_quiet(self, now: datetime) -> datetime | None:
        """When the quiet span containing ``now`` ends, or None when ``now`` is not quiet."""
        local = now.astimezone(zone(self.tz))
        t = local.time().replace(tzinfo=None)
        wraps = self.start > self.end
        quiet = (t >= self.start or t < self.end) if wraps else (self.start <= t < self.end)
        if not quiet or self.start == self.end:
            return None
        day = local.date() + timedelta(days=1) if wraps and t >= self.start else local.date()
        return datetime.combine(day, self.end, tzinfo=local.tzinfo)


class NotifySpec(BaseModel):
    """Where and how a watch's alerts are delivered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channels: tuple[str, ...] = Field(min_length=1, description="Channel names from the settings.")
    mode: Literal["immediate", "digest"] = "immediate"
    schedule: str | None = Field(default=None, description="Digest schedule; default hourly.")
    throttle: Throttle | None = None
    quiet_hours: QuietHours | None = None
    priority: Literal["normal", "critical"] = "normal"
    mute_until: AwareDatetime | None = None

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is not None:
            Schedule.parse(value)
        return value

    @field_validator("throttle", mode="before")
    @classmethod
    def _throttle_shorthand(cls, value: Any) -> Any:
        # ``throttle: 60/1h`` is accepted as well as the mapping form.
        if not isinstance(value, str):
            return value
        count, _, per = value.partition("/")
        if not count.strip().isdigit() or not per.strip():
            raise ValueError("throttle must look like '60/1h' or {max: 60, per: 1h}")
        return {"max": int(count), "per": per.strip()}

    def digest_schedule(self) -> Schedule:
        """The digest schedule (hourly when unset)."""
        return Schedule.parse(self.schedule or "hourly")

    @property
    def critical(self) -> bool:
        """Critical alerts bypass digest mode, throttling and quiet hours."""
        return self.priority == "critical"
