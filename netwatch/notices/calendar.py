"""Notice dates and times in the notice time zone: working days, deadlines, months.

A day is a working day unless it is a day off: a ``NoticeSettings.weekend`` day
(Saturday and Sunday unless the inventory says otherwise) or one of the
``holidays``; a make-up working day (调休上班, one of the ``workdays``) is a working
day even on a weekend. A deadline is the issue date plus ``rectify_within`` calendar
days; when that day is a day off it moves to the next working day, so nothing falls
due on a Sunday or in the golden week. The monthly circular is issued on the month's
first working day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from netwatch.inventory import NoticeSettings

MAX_DAYS_OFF = 366  # no calendar has a longer run of days off: a guard against a bad one


def is_working_day(day: date, settings: NoticeSettings) -> bool:
    """Whether ``day`` is a working day: a make-up working day, else no weekend day and
    no holiday."""
    if day in settings.workdays:
        return True
    return day not in settings.holidays and day.isoweekday() not in settings.weekend


def next_working_day(day: date, settings: NoticeSettings) -> date:
    """``day`` itself when it is a working day, else the next one."""
    for _ in range(MAX_DAYS_OFF):
        if is_working_day(day, settings):
            return day
        day += timedelta(days=1)
    raise ValueError(f"no working day within {MAX_DAYS_OFF} days of {day}: check the "
                     "weekend and holidays")


def first_working_day(year: int, month: int, settings: NoticeSettings) -> date:
    """The month's first working day (the circular's issue day)."""
    return next_working_day(date(year, month, 1), settings)


def deadline(issued: date, within_days: int, settings: NoticeSettings) -> date:
    """The last day to rectify: ``within_days`` calendar days on, moved to a working day."""
    if within_days < 1:
        raise ValueError(f"rectify within {within_days} days: expected at least 1")
    return next_working_day(issued + timedelta(days=within_days), settings)


def day_start(day: date, zone: ZoneInfo) -> float:
    """Unix seconds of 00:00 on ``day`` in the zone."""
    return datetime.combine(day, time(0), zone).timestamp()


def local_date(ts: float, zone: ZoneInfo) -> date:
    """The calendar date of a Unix time in the zone."""
    return datetime.fromtimestamp(ts, zone).date()


def iso(ts: float, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, to the second."""
    return datetime.fromtimestamp(ts, zone).isoformat(timespec="seconds")
