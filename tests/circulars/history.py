"""A month of stored history for the circular's tests: November 2026 in 示例市.

East has a switch, two cameras (one newly installed mid-month), a trunking site and a
sampled camera (video and clock checks); west a key-area camera and a camera. The rows
are written the way their owners store them (episodes through the fault log, first
checks and gaps through ``watched``) or directly where main has no writer yet (declared
outages, notice items with a chosen history).
"""

from __future__ import annotations

import json
from dataclasses import replace

from netwatch.inventory import CheckSpec, CircularSettings, Inventory
from netwatch.monitor import MAINTENANCE, Gap, record_first_checks
from netwatch.monitor.watched import record_gap
from netwatch.store import Store
from tests.notices.city import SETTINGS, at, city, device, fault, recover

MONTH = "2026-11"
START, END = at("2026-11-01", 0), at("2026-12-01", 0)
SAMPLED = (CheckSpec("icmp", "icmp", 0, None), CheckSpec("video", "video", 554, None),
           CheckSpec("onvif_time", "onvif_time", 80, None))
DEVICES = (
    device("sw-1", "switch"),
    device("cam-1", parent="sw-1"),
    device("cam-2", parent="sw-1"),
    device("site-1", "trunking_site"),
    device("cam-v", checks=SAMPLED),
    device("cam-9", county="west", key_area=True, checks=SAMPLED),
    device("cam-8", county="west"),
)
CIRCULAR = CircularSettings(prefix="示公通", video_target=0.95, clock_target=0.95)


def inventory() -> Inventory:
    return city(*DEVICES, settings=replace(SETTINGS, circular=CIRCULAR))


def declare(store: Store, county: str, devices: tuple[str, ...], starts: float, ends: float,
            made_at: float, cancelled_at: float | None = None) -> None:
    """A declaration as the counties' API stores it."""
    with store.transaction() as tx:
        outage = tx.scalar(
            "INSERT INTO declared_outages (county, selector, starts, ends, reason, made_at, "
            "made_by, cancelled_at, cancelled_by) VALUES (?, ?, ?, ?, 'power', ?, 'tok-1', "
            "?, ?) RETURNING id",
            (county, json.dumps({"devices": list(devices)}), starts, ends, made_at,
             cancelled_at, None if cancelled_at is None else "admin-1"))
        tx.executemany("INSERT INTO declared_outage_devices (outage_id, device) VALUES (?, ?)",
                       [(outage, d) for d in devices])


def item(store: Store, subject: str, problem: str, *, county: str = "east",
         subject_type: str = "device", state: str = "open", first_seen: float,
         created_at: float | None = None, rectified_at: float | None = None,
         closed_at: float | None = None, deadline: str | None = None,
         recurrence: int = 0) -> None:
    """A notice item with the history given (closed ones as verified)."""
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO notice_items (subject_type, subject, county, problem, name, kind, "
            "location, severity, state, close_reason, recurrence, first_seen, created_at, "
            "rectified_at, closed_at, rectify_within_days, deadline) "
            "VALUES (?, ?, ?, ?, ?, 'camera', '路口', 'major', ?, ?, ?, ?, ?, ?, ?, 3, ?)",
            (subject_type, subject, county, problem, subject, state,
             "verified" if state == "closed" else None, recurrence, first_seen,
             first_seen + 1800 if created_at is None else created_at, rectified_at, closed_at,
             deadline))


def november(store: Store) -> None:
    """The month's history (times in Shanghai)."""
    record_first_checks(store, [(d.id, at("2026-10-01", 0)) for d in DEVICES
                                if d.id != "cam-2"] + [("cam-2", at("2026-11-10", 0))])
    with store.transaction() as tx:
        record_gap(tx, Gap(at("2026-11-05", 10), at("2026-11-05", 14), "daemon_down"))
        record_gap(tx, Gap(at("2026-11-20", 0), at("2026-11-20", 6), "lease_lost", "east"))
        record_gap(tx, Gap(at("2026-10-31", 20), at("2026-11-01", 2), "daemon_down", "west"))
    # east's outages: one running into the month, one through the city's gap, one still open
    recover(store, fault(store, "cam-1", at("2026-10-30", 0)), at("2026-11-02", 12))
    recover(store, fault(store, "cam-1", at("2026-11-05", 12)), at("2026-11-06", 0))
    fault(store, "sw-1", at("2026-11-25", 0), fault="service_down", kind="switch")
    recover(store, fault(store, "cam-2", at("2026-11-11", 0), suppressed_by=MAINTENANCE),
            at("2026-11-11", 8))  # planned work: not counted
    recover(store, fault(store, "cam-1", at("2026-11-08", 0), fault="uplink_slow"),
            at("2026-11-09", 0))  # no outage
    # the site's outage inside its declared power cut; another declaration cancelled early
    declare(store, "east", ("site-1",), at("2026-11-12", 8), at("2026-11-12", 20),
            made_at=at("2026-11-11", 18))
    recover(store, fault(store, "site-1", at("2026-11-12", 9), kind="trunking_site"),
            at("2026-11-12", 11))
    declare(store, "east", ("cam-1",), at("2026-11-22", 0), at("2026-11-23", 0),
            made_at=at("2026-11-21", 12), cancelled_at=at("2026-11-22", 6))
    recover(store, fault(store, "cam-1", at("2026-11-22", 3)), at("2026-11-22", 9))
    # cam-v: a day without video, then its clock off from the 28th on
    recover(store, fault(store, "cam-v", at("2026-11-15", 0), fault="no_video"),
            at("2026-11-16", 0))
    fault(store, "cam-v", at("2026-11-28", 0), fault="clock_drift")
    # west: the key-area camera down 30 hours, the other camera fine
    recover(store, fault(store, "cam-9", at("2026-11-03", 0), county="west"),
            at("2026-11-04", 6))
    declare(store, "west", ("cam-8",), at("2026-12-01", 2), at("2026-12-01", 4),
            made_at=at("2026-11-30", 12))  # next month's: not this circular's
    # east's items
    item(store, "cam-1", "unreachable", state="closed", first_seen=at("2026-11-05", 12),
         rectified_at=at("2026-11-06", 0), closed_at=at("2026-11-07", 0))
    item(store, "sw-1", "service_down", first_seen=at("2026-11-25", 0),
         deadline="2026-11-30")  # overdue at the month's end (due the last day)
    item(store, "cam-v", "no_video", first_seen=at("2026-11-15", 0),
         created_at=at("2026-10-20", 0), recurrence=1,
         deadline="2026-12-01")  # reopened in the month; due on the 1st: not overdue yet
    item(store, "cp-1", "blind", subject_type="point", state="closed",
         first_seen=at("2026-11-03", 0), rectified_at=at("2026-11-17", 0),
         closed_at=at("2026-11-18", 0))
    item(store, "cell-7", "blind", subject_type="cell", first_seen=at("2026-11-29", 0))
    item(store, "cam-2", "unreachable", state="closed", first_seen=at("2026-09-01", 0),
         rectified_at=at("2026-10-14", 0), closed_at=at("2026-10-15", 0))  # before the month
    item(store, "cam-1", "flapping", state="rectified", first_seen=at("2026-11-10", 0),
         rectified_at=at("2026-11-29", 0), deadline="2026-11-20")  # rectified: not overdue
    item(store, "cam-2", "auth_failed", state="closed", first_seen=at("2026-10-28", 0),
         rectified_at=at("2026-12-01", 2), closed_at=at("2026-12-01", 3),
         deadline="2026-11-02")  # closed after the month: open and overdue at its end
    item(store, "cam-1", "degraded_link", first_seen=at("2026-11-30", 23),
         created_at=at("2026-12-01", 1))  # an item only after the month
    item(store, "cam-8", "unreachable", county="west", first_seen=at("2026-11-20", 0),
         deadline="2026-11-25")
