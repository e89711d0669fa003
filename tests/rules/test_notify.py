"""NotifySpec and its pure time rules: durations, schedules, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from alerts.rules.notify import NotifySpec, QuietHours, Schedule, parse_duration

KYIV_QUIET = QuietHours(start=time(22, 0), end=time(7, 0), tz="Europe/Kyiv")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(minutes=90)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "2", "h", "0s", "-1h", "2 hours", "1m1h"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_hourly_fires_on_the_next_hour():
    now = datetime(2026, 3, 2, 12, 15, tzinfo=UTC)
    assert Schedule.parse("hourly").next_after(now) == datetime(2026, 3, 2, 13, 0, tzinfo=UTC)


def test_daily_at_kyiv_follows_the_zone_across_dst():
    s = Schedule.parse("daily at 08:00 Europe/Kyiv")
    # Winter: Kyiv is UTC+2, so 08:00 local is 06:00 UTC.
    assert s.next_after(datetime(2026, 3, 2, 7, 0, tzinfo=UTC)) == datetime(
        2026, 3, 3, 6, 0, tzinfo=UTC
    )
    # The clocks go forward on 29 March 2026: 08:00 local is then 05:00 UTC.
    assert s.next_after(datetime(2026, 3, 28, 7, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 5, 0, tzinfo=UTC
    )


def test_cron_with_zone_and_plain_cron():
    monday = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert Schedule.parse("*/15 * * * *").next_after(monday) == monday + timedelta(minutes=15)
    fire = Schedule.parse("0 9 * * 1-5 Europe/London").next_after(monday)
    assert fire == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["weekly", "daily at 25:00", "daily at 08:00 Mars/Base", "* *"])
def test_bad_schedules(text):
    with pytest.raises(ValueError):
        Schedule.parse(text)


@pytest.mark.parametrize(
    ("utc_hour", "utc_minute", "quiet_until_utc"),
    [
        (19, 59, None),  # 21:59 Kyiv
        (20, 0, datetime(2026, 3, 3, 5, 0, tzinfo=UTC)),  # 22:00 Kyiv, until 07:00 next day
        (23, 30, datetime(2026, 3, 3, 5, 0, tzinfo=UTC)),  # 01:30 Kyiv (3rd)
        (4, 59, datetime(2026, 3, 2, 5, 0, tzinfo=UTC)),  # 06:59 Kyiv
        (5, 0, None),  # 07:00 Kyiv: over
    ],
)
def test_quiet_hours_wrap_midnight_in_their_zone(utc_hour, utc_minute, quiet_until_utc):
    now = datetime(2026, 3, 2, utc_hour, utc_minute, tzinfo=UTC)
    end = KYIV_QUIET.end_if_quiet(now)
    assert (end.astimezone(UTC) if end else None) == quiet_until_utc


def test_spec_accepts_every_option():
    spec = NotifySpec.model_validate(
        {
            "channels": ["ops", "slack"],
            "mode": "digest",
            "schedule": "daily at 08:00 Europe/Kyiv",
            "throttle": "60/1h",
            "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "Europe/Kyiv"},
            "priority": "critical",
            "mute_until": "2026-03-02T18:00:00+02:00",
        }
    )
    assert spec.throttle is not None and spec.throttle.max == 60
    assert spec.throttle.window == timedelta(hours=1)
    assert spec.critical and spec.digest_schedule().tz == "Europe/Kyiv"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"channels": ["ops"], "mode": "sometimes"}, "Input should be 'immediate' or 'digest'"),
        ({"channels": ["ops"], "schedule": "weekly"}, "invalid schedule 'weekly'"),
        ({"channels": ["ops"], "throttle": "many"}, "throttle must look like '60/1h'"),
        ({"channels": ["ops"], "throttle": {"max": 0}}, "greater than or equal to 1"),
        (
            {"channels": ["ops"], "quiet_hours": {"start": "22:00", "end": "07:00", "tz": "X/Y"}},
            "unknown time zone 'X/Y'",
        ),
        ({"channels": ["ops"], "mute_until": "2026-03-02T18:00:00"}, "timezone"),
        ({"channels": ["ops"], "colour": "red"}, "Extra inputs are not permitted"),
        ({"channels": []}, "at least 1 item"),
    ],
)
def test_spec_errors_are_readable(block, message):
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace("'", "'")):
        NotifySpec.model_validate(block)
