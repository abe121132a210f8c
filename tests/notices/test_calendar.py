"""The working-day calendar: weekends, holidays, make-up working days, the month's first
working day and deadlines moved off days off."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from netwatch.notices.calendar import deadline, first_working_day, is_working_day
from tests.notices.city import SETTINGS

# The 2026 National Day golden week as the State Council set it: 1–7 October off, Sunday
# 27 September and Saturday 10 October worked in exchange (调休上班).
GOLDEN = replace(SETTINGS,
                 holidays=tuple(date(2026, 10, d) for d in range(1, 8)),
                 workdays=(date(2026, 9, 27), date(2026, 10, 10)))


def test_weekends_are_days_off_unless_made_up() -> None:
    assert is_working_day(date(2026, 12, 4), SETTINGS)  # a Friday
    assert not is_working_day(date(2026, 12, 5), SETTINGS)  # Saturday
    assert not is_working_day(date(2026, 12, 6), SETTINGS)  # Sunday
    assert is_working_day(date(2026, 9, 27), GOLDEN)  # a make-up Sunday
    assert not is_working_day(date(2026, 9, 27), SETTINGS)
    assert not is_working_day(date(2026, 10, 5), GOLDEN)  # a Monday in the golden week
    assert is_working_day(date(2026, 10, 5), SETTINGS)


def test_a_city_may_name_its_own_weekend() -> None:
    """A Friday-only weekend: Saturday works, Friday does not."""
    friday_off = replace(SETTINGS, weekend=(5,))
    assert not is_working_day(date(2026, 12, 4), friday_off)
    assert is_working_day(date(2026, 12, 5), friday_off)
    assert all(is_working_day(date(2026, 12, d), replace(SETTINGS, weekend=()))
               for d in range(1, 32))


@pytest.mark.parametrize(("year", "month", "settings", "expected"), [
    (2026, 10, GOLDEN, date(2026, 10, 8)),  # 1–7 off: Thursday the 8th
    (2026, 10, SETTINGS, date(2026, 10, 1)),  # without the holidays: Thursday the 1st
    (2026, 11, SETTINGS, date(2026, 11, 2)),  # the 1st is a Sunday
    (2026, 8, SETTINGS, date(2026, 8, 3)),  # Saturday the 1st, Sunday the 2nd
    (2026, 12, SETTINGS, date(2026, 12, 1)),  # a Tuesday
    (2027, 2, replace(SETTINGS, workdays=(date(2027, 2, 7),)), date(2027, 2, 1)),
    (2026, 11, replace(SETTINGS, workdays=(date(2026, 11, 1),)), date(2026, 11, 1)),
    (2027, 1, replace(SETTINGS, holidays=(date(2027, 1, 1),)), date(2027, 1, 4)),
])
def test_first_working_day(year: int, month: int, settings: object, expected: date) -> None:
    assert first_working_day(year, month, settings) == expected  # type: ignore[arg-type]


def test_a_deadline_moves_past_the_golden_week() -> None:
    """Issued Monday 28 September with 3 days: due Thursday 1 October, a holiday; the first
    working day after is Thursday 8 October. A deadline on the make-up Saturday stays."""
    assert deadline(date(2026, 9, 28), 3, GOLDEN) == date(2026, 10, 8)
    assert deadline(date(2026, 10, 8), 2, GOLDEN) == date(2026, 10, 10)
    assert deadline(date(2026, 10, 8), 2, SETTINGS) == date(2026, 10, 12)
    with pytest.raises(ValueError, match="at least 1"):
        deadline(date(2026, 10, 8), 0, SETTINGS)


def test_a_calendar_without_working_days_is_refused_not_looped() -> None:
    every_day_off = replace(SETTINGS, weekend=(1, 2, 3, 4, 5, 6, 7))
    with pytest.raises(ValueError, match="no working day"):
        first_working_day(2026, 11, every_day_off)
