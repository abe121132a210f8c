"""Inventory value parsers: durations, speeds, ratios, dates, cron, time zones, ${ENV} secrets.

Each parser takes a raw YAML (or CSV) value and returns the typed value or raises
``BadValue`` with a message that says what was expected. Secret parsers never put
the value into a message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from probes import durations
from probes.durations import DURATION_HINT


class BadValue(ValueError):
    """A value has the wrong type or unit; the message says what was expected."""


def shown(value: Any) -> str:
    """How a wrong value is quoted back: short, and never a whole structure."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'




def duration(value: Any) -> float:
    """Seconds from ``30s``, ``500ms``, ``1h30m``, ``2d`` or a bare number of seconds."""
    try:
        return durations.seconds(value)
    except durations.BadDuration:
        raise BadValue(f"expected {DURATION_HINT}, got {shown(value)}") from None


def positive_duration(value: Any) -> float:
    seconds = duration(value)
    if seconds <= 0:
        raise BadValue(f"must be more than zero, got {shown(value)}")
    return seconds


def whole_days(value: Any) -> int:
    """Calendar days from ``3d`` (or ``72h``, or a bare number of days)."""
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value * 86400.0
    else:
        seconds = duration(value)
    days, rest = divmod(seconds, 86400.0)
    if rest or days < 1:
        raise BadValue(f"expected whole days like 1d or 3d, got {shown(value)}")
    return int(days)


_SPEED = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:bit|bps|bit/s|b/s)?", re.IGNORECASE)
_SPEED_UNITS = {"": 1.0, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}


def speed(value: Any) -> float:
    """Bits per second from ``1000Mbit``, ``1Gbit``, ``100Mbps`` or a bare number of bit/s."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _SPEED.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise BadValue(f"expected a speed like 1000Mbit or 1Gbit, got {shown(value)}")
    return float(match.group(1)) * _SPEED_UNITS[match.group(2).lower()]


def ratio(value: Any) -> float:
    """A ratio 0..1 from ``0.98`` or ``98%``."""
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            result = float(value.strip()[:-1]) / 100.0
        except ValueError:
            raise BadValue(f"expected a ratio like 0.98 or 98%, got {shown(value)}") from None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        result = float(value)
    else:
        raise BadValue(f"expected a ratio like 0.98 or 98%, got {shown(value)}")
    if not 0.0 <= result <= 1.0:
        raise BadValue(f"must be between 0 and 1 (or 0% and 100%), got {shown(value)}")
    return result


def integer(lo: int, hi: int | None = None) -> Any:
    """A parser for whole numbers in lo..hi."""

    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadValue(f"expected a whole number, got {shown(value)}")
        if value < lo or (hi is not None and value > hi):
            limit = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
            raise BadValue(f"must be {limit}, got {value}")
        return value

    return parse


def number(lo: float | None = None, hi: float | None = None) -> Any:
    """A parser for numbers in lo..hi."""

    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadValue(f"expected a number, got {shown(value)}")
        if (lo is not None and not value >= lo) or (hi is not None and not value <= hi):
            raise BadValue(f"{value} is out of range {lo}..{hi}")
        return float(value)

    return parse


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadValue(f"expected true or false, got {shown(value)}")
    return value


def text(value: Any) -> str:
    """A non-empty string (numbers are not silently turned into text)."""
    if not isinstance(value, str) or not value.strip():
        raise BadValue(f"expected a non-empty string, got {shown(value)}")
    return value


# C0 and C1 controls (with DEL), the line and paragraph separators and the bidirectional
# overrides: none belongs in a name, which becomes a metric label value, page text and a
# notice's wording, where they would break a scrape's lines or disguise the text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def control_problem(value: str) -> str | None:
    """What is wrong with a name holding a control character (by code point), or None."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return (f"control character U+{ord(found.group()):04X} at position {found.start() + 1}"
            " is not allowed in a name (names become metric labels and page text)")


def name_text(value: Any) -> str:
    """A non-empty name without control characters (``control_problem``)."""
    value = text(value)
    problem = control_problem(value)
    if problem is not None:
        raise BadValue(problem)
    return value


def text_or_empty(value: Any) -> str:
    if not isinstance(value, str):
        raise BadValue(f"expected a string, got {shown(value)}")
    return value


_ID = re.compile(r"[\w][\w.:-]*")


def is_identifier(text: str) -> bool:
    return _ID.fullmatch(text) is not None


def identifier(value: Any) -> str:
    """An id: letters (any script), digits, ``. _ : -``; numbers must be quoted."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise BadValue(f"expected a string id, got the number {value} (quote it)")
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise BadValue(f'expected an id of letters, digits, ".", "_", ":", "-", got {shown(value)}')
    return value


def calendar_date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BadValue(f"expected a date like 2026-10-01, got {shown(value)}")


def timestamp(zone: tzinfo) -> Any:
    """A parser for ISO 8601 date-times; a time without offset is read in ``zone``."""

    def parse(value: Any) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                pass
        if not isinstance(value, datetime):
            raise BadValue(
                f"expected a date-time like 2026-12-01T22:00:00+08:00, got {shown(value)}"
            )
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)

    return parse


def time_zone(value: Any) -> str:
    if isinstance(value, str) and value.strip():
        try:
            ZoneInfo(value)
            return value
        except (ZoneInfoNotFoundError, ValueError):
            pass
    raise BadValue(f"unknown time zone {shown(value)} (use an IANA name like Asia/Shanghai)")


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _crontab_days(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as APScheduler day names.

    APScheduler 3's ``from_crontab`` reads ``1`` as Tuesday (its weeks start at
    Monday = 0), so ``0 8 * * 1`` would fire on the wrong day; spelling the days
    out keeps the crontab meaning.
    """
    if field == "*":
        return "*"
    days: set[int] = set()

    def day(text: str) -> int:
        if text.isdigit() and int(text) <= 7:
            return int(text) % 7
        if text.lower()[:3] in _DAYS and len(text) == 3:
            return _DAYS.index(text.lower())
        raise ValueError(f"bad day of week {text!r}")

    for token in field.split(","):
        span, _, step_text = token.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step in {token!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            first, last = day(a), day(b)
            last = 7 if last == 0 and first > 0 else last  # "5-7", "fri-sun": up to Sunday
        else:
            first = last = day(span)
            last = 6 if step else last
        if last < first:
            raise ValueError(f"bad day range {token!r}")
        days.update(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_DAYS[d] for d in sorted(days))


def cron_trigger(expression: str, timezone: str) -> Any:
    """An APScheduler CronTrigger that keeps crontab's meaning (Sunday = 0 or 7)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"Wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, day_of_week = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_crontab_days(day_of_week), timezone=timezone)


def cron(zone: str) -> Any:
    """A parser for 5-field crontab expressions, checked by APScheduler itself."""

    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise BadValue(f'expected a cron expression like "0 8 * * 1", got {shown(value)}')
        try:
            cron_trigger(value, zone)
        except ValueError as exc:
            raise BadValue(f"bad cron expression {shown(value)}: {exc}") from None
        return value

    return parse


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def secret(env: Mapping[str, str], *, optional: bool = False) -> Any:
    """A parser for secrets: only a ``${NAME}`` reference, resolved from ``env``.

    Messages name the variable, never a value. With ``optional`` an empty string
    means "no secret".
    """

    def parse(value: Any) -> str:
        if optional and value == "":
            return ""
        match = _ENV_REF.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise BadValue("secrets only as ${ENV} references, never in plain text")
        name = match.group(1)
        resolved = env.get(name)
        if resolved is None:
            raise BadValue(f"environment variable {name} is not set")
        if not resolved:
            raise BadValue(f"environment variable {name} is empty")
        return resolved

    return parse
