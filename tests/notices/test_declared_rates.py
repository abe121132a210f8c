"""Declared outages in the online rate: their time taken out and counted apart, never an
excuse for an outage first seen before they started."""

from __future__ import annotations

import json

import pytest

from netwatch.monitor import Gap, record_first_checks, record_gap
from netwatch.notices.summary import figures
from netwatch.store import Store
from tests.notices.city import HOUR, at, city, device, fault, recover

BOTH_ENGINES = True  # the owners' reads hold on SQLite and on PostgreSQL

DAY_START, DAY_END = at("2026-11-10", 0), at("2026-11-11", 0)
CAMERAS = (device("cam-1"), device("cam-2"))


def declare(store: Store, devices: tuple[str, ...], starts: float, ends: float,
            made_at: float, cancelled_at: float | None = None) -> None:
    """A declaration as the county's API stores it (rows written directly: the rule under
    test is the rate's, not the API's)."""
    with store.transaction() as tx:
        outage = tx.scalar(
            "INSERT INTO declared_outages (county, selector, starts, ends, reason, made_at, "
            "made_by, cancelled_at, cancelled_by) VALUES (?, ?, ?, ?, 'roadworks', ?, 'tok-1', "
            "?, ?) RETURNING id",
            ("east", json.dumps({"devices": list(devices)}), starts, ends, made_at,
             cancelled_at, None if cancelled_at is None else "admin-1"))
        tx.executemany("INSERT INTO declared_outage_devices (outage_id, device) VALUES (?, ?)",
                       [(outage, d) for d in devices])


@pytest.fixture
def watched(store: Store) -> Store:
    record_first_checks(store, [(d.id, DAY_START - HOUR) for d in CAMERAS])
    return store


def camera_figures(store: Store) -> tuple[float, float, float]:
    f = figures(store, city(*CAMERAS), DAY_START, DAY_END)["east"]["camera"]
    return f.ratio, f.watched / HOUR, f.declared / HOUR


def test_an_outage_inside_a_declaration_is_taken_out_and_its_time_counted_apart(
        watched: Store) -> None:
    declare(watched, ("cam-1",), DAY_START + 10 * HOUR, DAY_START + 14 * HOUR,
            made_at=DAY_START + 9 * HOUR)
    recover(watched, fault(watched, "cam-1", DAY_START + 11 * HOUR), DAY_START + 13 * HOUR)
    assert camera_figures(watched) == pytest.approx((1.0, 44.0, 4.0))


def test_an_outage_first_seen_before_the_declaration_counts_in_full(watched: Store) -> None:
    """Down from 08:00 to 12:00; the county declares 10:00-14:00 at 09:30: the four hours
    count, and only 12:00-14:00 is declared time."""
    declare(watched, ("cam-1",), DAY_START + 10 * HOUR, DAY_START + 14 * HOUR,
            made_at=DAY_START + 9.5 * HOUR)
    recover(watched, fault(watched, "cam-1", DAY_START + 8 * HOUR), DAY_START + 12 * HOUR)
    ratio, hours, declared = camera_figures(watched)
    assert (hours, declared) == pytest.approx((46.0, 2.0))
    assert ratio == pytest.approx(1 - 4 / 46)


def test_a_cancelled_declaration_covers_only_until_its_cancellation(watched: Store) -> None:
    declare(watched, ("cam-1", "cam-2"), DAY_START + 10 * HOUR, DAY_START + 14 * HOUR,
            made_at=DAY_START + 9 * HOUR, cancelled_at=DAY_START + 11 * HOUR)
    recover(watched, fault(watched, "cam-2", DAY_START + 10.5 * HOUR), DAY_START + 12.5 * HOUR)
    ratio, hours, declared = camera_figures(watched)
    assert (hours, declared) == pytest.approx((46.0, 2.0))
    assert ratio == pytest.approx(1 - 1.5 / 46)  # 11:00-12:30 after the cancellation


def test_declared_time_nothing_watched_is_a_gap_not_declared_time(watched: Store) -> None:
    declare(watched, ("cam-1",), DAY_START + 10 * HOUR, DAY_START + 14 * HOUR,
            made_at=DAY_START + 9 * HOUR)
    with watched.transaction() as tx:
        record_gap(tx, Gap(DAY_START + 12 * HOUR, DAY_START + 16 * HOUR, "daemon_down"))
    assert camera_figures(watched) == pytest.approx((1.0, 48.0 - 4.0 - 4.0 - 2.0, 2.0))


def test_without_declarations_the_rate_is_as_before(watched: Store) -> None:
    recover(watched, fault(watched, "cam-1", DAY_START + 11 * HOUR), DAY_START + 13 * HOUR)
    assert camera_figures(watched) == pytest.approx((1 - 2 / 48, 48.0, 0.0))
