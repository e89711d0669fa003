"""Reading the time stamps of live-blog posts: ISO 8601, RFC 2822, or a bare clock time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

_CLOCK = re.compile(r"^\s*(\d{1,2})[:.h](\d{2})\s*(am|pm|a\.m\.|p\.m\.)?\s*$", re.I)


def _clock_time(value: str, today: datetime | None) -> datetime | None:
    m = _CLOCK.match(value)
    if not m or today is None:
        return None
    hour, minute = int(m.group(1)), int(m.group(2))
    suffix = (m.group(3) or "").lower().replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    day = today.astimezone(UTC)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


def parse_stamp(value: str, today: datetime | None = None) -> datetime | None:
    """An aware datetime from a stamp; a bare '10:32' is taken on ``today`` (UTC); else None."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (TypeError, ValueError, IndexError):
        pass
    return _clock_time(value, today)
