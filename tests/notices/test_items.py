"""Notice items: candidates from episodes (grace, suppression, maintenance) and the lifecycle."""

from __future__ import annotations

from dataclasses import replace

import pytest

from netwatch.inventory import CheckSpec
from netwatch.monitor import DeviceState
from netwatch.monitor.faults import MAINTENANCE
from netwatch.monitor.monitor import evidence
from netwatch.notices.items import AckError, acknowledge, item_county, sync_items
from netwatch.notices.record import Candidate
from netwatch.store import FaultLog, Store
from probes.base import ProbeResult, Reason
from tests.notices.city import DAY, DEVICES, HOUR, at, city, device, fault, recover

BOTH_ENGINES = True  # the owners' rules hold on SQLite and on PostgreSQL

T0 = at("2026-11-20")


def items(store: Store) -> list[dict[str, object]]:
    return [dict(r) for r in store.execute("SELECT * FROM notice_items ORDER BY id")]


def test_grace_period_keeps_young_faults_out(store: Store) -> None:
    """A fault younger than its device's grace period is no item; once older, it is one."""
    fault(store, "cam-8", T0, county="west")
    assert sync_items(store, city(), T0 + 1000).opened == 0
    assert items(store) == []
    assert sync_items(store, city(), T0 + 1801).opened == 1
    [item] = items(store)
    assert (item["subject"], item["problem"], item["state"], item["severity"]) == (
        "cam-8", "unreachable", "open", "major")
    assert item["first_seen"] == T0 and item["deadline"] is None


def test_a_camera_without_video_is_a_major_item_and_a_drifting_clock_a_minor_one(
        store: Store) -> None:
    """No picture is as useless as no camera; a clock off is to be fixed, not urgent."""
    fault(store, "cam-8", T0, "no_video", county="west")
    fault(store, "cam-9", T0, "clock_drift", county="west")
    sync_items(store, city(), T0 + DAY)
    assert {(i["subject"], i["problem"], i["severity"]) for i in items(store)} == {
        ("cam-8", "no_video", "major"), ("cam-9", "clock_drift", "minor")}


def test_switch_outage_is_one_item_counting_its_children(store: Store) -> None:
    """Children suppressed by a failing switch are no items; the switch's item counts them."""
    fault(store, "sw-1", T0, kind="switch")
    fault(store, "cam-1", T0, suppressed_by="sw-1")
    fault(store, "cam-2", T0 + 60, suppressed_by="sw-1")
    sync_items(store, city(), T0 + DAY)
    [item] = items(store)
    assert (item["subject"], item["suppressed_children"], item["severity"]) == ("sw-1", 2,
                                                                                "critical")


def test_maintenance_suppressed_faults_are_no_items_and_do_not_rectify(store: Store) -> None:
    """A fault in maintenance makes no item; an existing item under maintenance stays open."""
    fault(store, "cam-8", T0, county="west", suppressed_by=MAINTENANCE)
    ep = fault(store, "site-1", T0, kind="trunking_site")
    sync_items(store, city(), T0 + DAY)
    [item] = items(store)
    assert item["subject"] == "site-1" and item["severity"] == "critical"
    FaultLog(store).apply([], [(ep, MAINTENANCE, "icmp: timeout")], [])
    sync_items(store, city(), T0 + 2 * DAY)
    assert [i["state"] for i in items(store)] == ["open"]


def test_removed_device_closes_its_item_as_removed(store: Store) -> None:
    """An item whose device left the inventory closes with reason removed, never rectified."""
    ep = fault(store, "cam-8", T0, county="west")
    sync_items(store, city(), T0 + DAY)
    FaultLog(store).apply([], [], [(ep, T0 + DAY + 5, "removed")])
    smaller = city(*[d for d in DEVICES if d.id != "cam-8"])
    assert sync_items(store, smaller, T0 + DAY + 10).removed == 1
    [item] = items(store)
    assert (item["state"], item["close_reason"], item["rectified_at"]) == ("closed", "removed",
                                                                         None)


def test_verification_closes_and_a_return_reopens_with_recurrence(store: Store) -> None:
    """Rectified when the fault closes, closed after the verification window, reopened after."""
    inv = city()
    ep = fault(store, "cam-8", T0, county="west")
    sync_items(store, inv, T0 + DAY)
    [first] = items(store)
    store.execute("UPDATE notice_items SET deadline = '2026-11-24'")  # as if listed
    recover(store, ep, T0 + DAY + HOUR)
    assert sync_items(store, inv, T0 + DAY + 2 * HOUR).rectified == 1
    [item] = items(store)
    assert (item["state"], item["rectified_at"]) == ("rectified", T0 + DAY + HOUR)
    report = sync_items(store, inv, T0 + 2 * DAY + HOUR + 1)  # 24 h healthy after the fix
    assert report.closed == 1
    [item] = items(store)
    assert (item["state"], item["close_reason"]) == ("closed", "verified")
    fault(store, "cam-8", T0 + 5 * DAY, county="west")
    assert sync_items(store, inv, T0 + 6 * DAY).reopened == 1
    [item] = items(store)
    assert (item["id"], item["state"], item["recurrence"]) == (first["id"], "open", 1)
    assert item["deadline"] is None and item["first_seen"] == T0 + 5 * DAY


def test_return_during_verification_reopens_the_same_item(store: Store) -> None:
    """A problem back before verification ends reopens the rectified item, recurrence 1."""
    inv = city()
    ep = fault(store, "cam-8", T0, county="west")
    sync_items(store, inv, T0 + DAY)
    recover(store, ep, T0 + DAY + 60)
    sync_items(store, inv, T0 + DAY + 120)
    fault(store, "cam-8", T0 + DAY + 600, county="west")
    report = sync_items(store, inv, T0 + 2 * DAY)
    assert (report.reopened, report.opened) == (1, 0)
    [item] = items(store)
    assert (item["state"], item["recurrence"]) == ("open", 1)


def test_return_after_the_recurrence_window_is_a_new_item(store: Store) -> None:
    """The same problem back after the recurrence window is a new item, recurrence 0."""
    inv = city()
    ep = fault(store, "cam-8", T0, county="west")
    sync_items(store, inv, T0 + DAY)
    recover(store, ep, T0 + DAY)
    sync_items(store, inv, T0 + 3 * DAY)
    fault(store, "cam-8", T0 + 40 * DAY, county="west")
    assert sync_items(store, inv, T0 + 41 * DAY).opened == 1
    assert [(i["state"], i["recurrence"]) for i in items(store)] == [("closed", 0), ("open", 0)]


def test_blind_spot_items_only_judged_with_coverage(store: Store) -> None:
    """Point items stay put unless the coverage verdicts are given; then a gone one rectifies."""
    spot = Candidate(subject_type="point", subject="p-1", county="east", problem="blind_spot",
                     name="桥", kind="pdt", location="30.1, 120.2", first_seen=T0,
                     severity="major", rectify_within_days=30, evidence={"median_dbm": -112})
    inv = replace(city(), points=())
    sync_items(store, inv, T0 + DAY, extra=[spot], coverage_judged=True)
    sync_items(store, inv, T0 + 2 * DAY)
    assert [i["state"] for i in items(store)] == ["open"]
    sync_items(store, inv, T0 + 3 * DAY, coverage_judged=True)
    assert [(i["state"], i["close_reason"]) for i in items(store)] == [("closed", "removed")]


def test_acknowledgement_is_validated_and_never_closes(store: Store) -> None:
    """A note and promised date are stored; bad ones are refused; the state stays open."""
    fault(store, "cam-8", T0, county="west")
    sync_items(store, city(), T0 + DAY)
    [item] = items(store)
    now = at("2026-11-21", 10)
    assert item_county(store, item["id"]) == "west" and item_county(store, 999) is None
    with pytest.raises(AckError, match="note: must not be empty"):
        acknowledge(store, item["id"], "  ", "2026-11-25", "tok1", now)
    with pytest.raises(AckError, match="at most 500"):
        acknowledge(store, item["id"], "x" * 501, "2026-11-25", "tok1", now)
    with pytest.raises(AckError, match="before today"):
        acknowledge(store, item["id"], "已报修", "2026-11-20", "tok1", now)
    with pytest.raises(AckError, match="not a date"):
        acknowledge(store, item["id"], "已报修", "25/11/2026", "tok1", now)
    with pytest.raises(LookupError):
        acknowledge(store, 999, "已报修", "2026-11-25", "tok1", now)
    ack = acknowledge(store, item["id"], " 已报修 ", "2026-11-25", "tok1", now)
    assert (ack.note, ack.promised, ack.at, ack.by) == (
        "已报修", "2026-11-25", "2026-11-21T10:00:00+08:00", "tok1")
    [item] = items(store)
    assert (item["state"], item["ack_note"], item["ack_by"]) == ("open", "已报修", "tok1")


def test_monitor_evidence_names_failed_checks_last_good_and_figures() -> None:
    """The evidence recorded with an episode lists failed checks, last good time and figures."""
    state = DeviceState(device("cam-5", checks=(CheckSpec("icmp", "icmp", 0, None),
                                                CheckSpec("rtsp", "rtsp", 554, None))))
    state.record({"icmp": ProbeResult.ok(rtt_seconds=0.002), "rtsp": ProbeResult.ok()}, 100.0)
    state.record({"icmp": ProbeResult.fail(Reason.TIMEOUT, "no reply", loss_ratio=1.0),
                  "rtsp": ProbeResult.fail(Reason.TIMEOUT, "")}, 160.0)
    found = evidence(state)
    assert found == {"failed_checks": ["icmp: timeout (no reply)", "rtsp: timeout"],
                     "figures": {"icmp.loss_ratio": 1.0}, "last_good": 100.0}
