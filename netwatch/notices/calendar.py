"""Notice dates and times in the notice time zone, and how deadlines skip holidays.

A deadline is the issue date plus ``rectify_within`` calendar days; when that day
is one of ``NoticeSettings.holidays`` it moves to the next day that is not one.
Weekends are not skipped: the city lists the days off it means (including
adjusted working weekends) as holidays.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def deadline(issued: date, within_days: int, holidays: Collection[date] = ()) -> date:
    """The last day to rectify: ``within_days`` calendar days on, moved past holidays."""
    if within_days < 1:
        raise ValueError(f"rectify within {within_days} days: expected at least 1")
    day = issued + timedelta(days=within_days)
    while day in holidays:
        day += timedelta(days=1)
    return day


def day_start(day: date, zone: ZoneInfo) -> float:
    """Unix seconds of 00:00 on ``day`` in the zone."""
    return datetime.combine(day, time(0), zone).timestamp()


def local_date(ts: float, zone: ZoneInfo) -> date:
    """The calendar date of a Unix time in the zone."""
    return datetime.fromtimestamp(ts, zone).date()


def iso(ts: float, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second."""
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="seconds")
