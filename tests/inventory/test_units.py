"""Inventory value parsers: units, dates, cron with crontab's weekdays, secrets, IP literals."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from netwatch.inventory import units as u
from netwatch.inventory.devices import ip_literal

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(("text", "seconds"), [
    ("30s", 30.0), ("500ms", 0.5), ("700ms", 0.7), ("2h", 7200.0), ("1d", 86400.0),
    ("30m", 1800.0), ("1h30m", 5400.0), ("1.5s", 1.5), (45, 45.0), (0.25, 0.25), ("1w", 604800.0),
])
def test_durations(text: Any, seconds: float) -> None:
    """Durations take ms/s/m/h/d/w units, compounds, and bare numbers as seconds."""
    assert u.duration(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "5 minutes", "", "-3s", True, [1], None, "s"])
def test_bad_durations(bad: Any) -> None:
    """Anything else is refused with the accepted forms in the message."""
    with pytest.raises(u.BadValue, match="expected a duration like 500ms"):
        u.duration(bad)


@pytest.mark.parametrize(("value", "bps"), [
    ("1000Mbit", 1e9), ("1Gbit", 1e9), ("100Mbps", 1e8), ("10 kbit", 1e4), (1000000, 1e6),
    ("2.5Gbit", 2.5e9),
])
def test_speeds(value: Any, bps: float) -> None:
    """Speeds take bit units with k/M/G/T prefixes, or a bare number of bits per second."""
    assert u.speed(value) == bps


@pytest.mark.parametrize(("value", "ratio"), [("1%", 0.01), (0.98, 0.98), ("98%", 0.98), (1, 1.0)])
def test_ratios(value: Any, ratio: float) -> None:
    """Ratios are 0..1 or a percentage."""
    assert u.ratio(value) == pytest.approx(ratio)


@pytest.mark.parametrize("bad", ["120%", 1.5, -0.1, "lots", True])
def test_bad_ratios(bad: Any) -> None:
    """Out-of-range or non-numeric ratios are refused."""
    with pytest.raises(u.BadValue):
        u.ratio(bad)


def test_whole_days() -> None:
    """rectify_within is whole calendar days: 3d, 72h or 3, never 36h."""
    assert u.whole_days("3d") == u.whole_days("72h") == u.whole_days(3) == 3
    with pytest.raises(u.BadValue, match="whole days"):
        u.whole_days("36h")


def test_ids_refuse_numbers_and_spaces() -> None:
    """Numeric ids must be quoted (YAML would read 0123 as octal); spaces are not allowed."""
    assert u.identifier("兴安-cam_01.a:b") == "兴安-cam_01.a:b"
    with pytest.raises(u.BadValue, match="quote it"):
        u.identifier(640104)
    with pytest.raises(u.BadValue):
        u.identifier("cam 1")


def test_dates_and_timestamps() -> None:
    """Dates are ISO dates; date-times without an offset are read in the city's zone."""
    assert u.calendar_date("2026-10-01") == u.calendar_date(date(2026, 10, 1)) == date(2026, 10, 1)
    with pytest.raises(u.BadValue):
        u.calendar_date(datetime(2026, 10, 1, 8, 0))
    parse = u.timestamp(TZ)
    assert parse("2026-12-01T22:00:00") == datetime(2026, 12, 1, 22, 0, tzinfo=TZ)
    assert parse("2026-12-01T22:00:00+00:00").utcoffset().total_seconds() == 0


@pytest.mark.parametrize(("expression", "weekday"), [
    ("0 8 * * 1", "Mon"), ("0 2 * * 0", "Sun"), ("0 2 * * 7", "Sun"), ("0 2 * * sat", "Sat"),
    ("0 8 * * 5-7", "Fri"),
])
def test_cron_keeps_crontab_weekdays(expression: str, weekday: str) -> None:
    """Day-of-week numbers mean what crontab means (APScheduler 3 alone reads 1 as Tuesday)."""
    trigger = u.cron_trigger(expression, "Asia/Shanghai")
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 26, tzinfo=TZ))  # a Thursday
    assert fire.strftime("%a") == weekday


def test_cron_weekday_steps_and_lists() -> None:
    """Steps and lists expand with Sunday as 0."""
    assert u._crontab_days("*/2") == "sun,tue,thu,sat"
    assert u._crontab_days("1-5") == "mon,tue,wed,thu,fri"
    assert u._crontab_days("0,6") == "sun,sat"
    with pytest.raises(u.BadValue, match="bad cron expression"):
        u.cron("Asia/Shanghai")("0 8 * * 9")


def test_secrets_only_as_env_references() -> None:
    """A secret is a ${NAME} resolved from env; plain text, unset and empty are refused."""
    parse = u.secret({"SET": "s3cret-value", "EMPTY": ""})
    assert parse("${SET}") == "s3cret-value"
    for value, message in (("plain-s3cret", "never in plain text"), ("${UNSET}", "UNSET is not"),
                           ("${EMPTY}", "EMPTY is empty"), (1234, "never in plain text")):
        with pytest.raises(u.BadValue, match=message) as caught:
            parse(value)
        assert "s3cret" not in str(caught.value) and "1234" not in str(caught.value)
    assert u.secret({}, optional=True)("") == ""


@pytest.mark.parametrize(("text", "canonical"), [
    ("127.20.1.1", "127.20.1.1"), ("::1", "::1"), ("0:0:0:0:0:0:0:1", "::1"),
    ("127.020.1.1", None), ("127.20.1", None), ("127.1.1.256", None), ("cam.example.invalid", None),
])
def test_ip_literals(text: str, canonical: str | None) -> None:
    """Addresses are IP literals (dotted quads without leading zeros, or IPv6), canonicalised."""
    assert ip_literal(text) == canonical


def test_names_refuse_every_control_character() -> None:
    """Every code point of categories Cc, Zl and Zp (and the bidirectional overrides) is
    refused in a name, naming its code point; ordinary Chinese and Latin names pass."""
    refused = [chr(c) for c in range(0x110000)
               if unicodedata.category(chr(c)) in ("Cc", "Zl", "Zp")]
    refused += ["\u202e", "\u2066", "\u200f"]
    assert {"\r", "\n", "\t", "\x00", "\x1b", "\x85", "\u2028", "\u2029"} <= set(refused)
    for char in refused:
        with pytest.raises(u.BadValue, match=f"U\\+{ord(char):04X} at position 3 "):
            u.name_text(f"东门{char}摄像机")
    for good in ("东门摄像机 1号", "Gate cam (north) — 北", "路口#3/东"):
        assert u.name_text(good) == good
