"""Blind spots as notice candidates and items: fields, severity, refers_to, open then close."""

from __future__ import annotations

from pathlib import Path

import pytest

from netwatch.coverage.notice_items import blind_spot_candidates, severity
from netwatch.inventory import Inventory
from netwatch.notices.issue import issue_notices
from netwatch.store import Store
from tests.coverage.city import DAY, NOW, add, add_many, load_city, open_fault


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return load_city(tmp_path)


@pytest.mark.parametrize(("priority", "under", "word"), [
    (1, 0.5, "critical"), (3, 10.0, "critical"), (5, float("inf"), "critical"),
    (2, 1.0, "major"), (3, 5.0, "major"), (3, 4.9, "minor"), (5, 0.1, "minor"),
])
def test_severity_by_priority_and_depth(priority: int, under: float, word: str) -> None:
    assert severity(priority, under) == word


def test_a_blind_point_becomes_a_candidate(store: Store, inv: Inventory) -> None:
    add_many(store, [-113, -114, -112], county="south", point="s-cp-1", lat=38.2, lon=106.02)
    (c,) = blind_spot_candidates(store, inv, NOW)
    assert (c.subject_type, c.subject, c.county, c.problem, c.kind) == (
        "point", "s-cp-1", "south", "blind_spot", "pdt")
    assert (c.name, c.location) == ("南镇政府", "38.20000, 106.02000 南镇政府")
    assert c.evidence == {"median_dbm": -113.0, "readings": 3, "threshold_dbm": -112.0,
                          "cause": "coverage_hole", "site": "s-ts-1", "lat": 38.2,
                          "lon": 106.02}
    assert (c.severity, c.rectify_within_days, c.refers_to) == ("minor", 30, None)
    assert c.first_seen == NOW - 3 * 3600


def test_a_site_down_blind_spot_refers_to_the_sites_item(store: Store, inv: Inventory) -> None:
    add_many(store, [-120, -120, -120], county="north", point="n-cp-1")
    open_fault(store, "n-ts-1", "unreachable")
    (c,) = blind_spot_candidates(store, inv, NOW)
    assert (c.refers_to, c.evidence["cause"], c.severity) == ("device:n-ts-1", "site_down",
                                                             "critical")


def test_a_blind_cell_is_a_candidate_per_technology(store: Store, inv: Inventory) -> None:
    for _ in range(3):
        add(store, county="east", lat=38.52, lon=106.7, rssi_dbm=-125)
    (c,) = blind_spot_candidates(store, inv, NOW)
    assert c.subject_type == "cell" and c.subject.startswith("cell-")
    assert c.subject.endswith("/pdt") and c.name == c.subject.removesuffix("/pdt")


def test_a_cell_of_a_county_gone_from_the_inventory_is_no_candidate(store: Store,
                                                                    inv: Inventory) -> None:
    for _ in range(3):
        add(store, county="merged", lat=20.0, lon=100.0, rssi_dbm=-125)
    assert blind_spot_candidates(store, inv, NOW) == []


def _items(store: Store) -> list[tuple[str, str, str, str | None]]:
    return [(r["subject"], r["problem"], r["state"], r["close_reason"]) for r in
            store.conn.execute("SELECT * FROM notice_items ORDER BY id")]


def test_a_blind_spot_opens_an_item_and_closes_after_good_readings(store: Store,
                                                                   inv: Inventory) -> None:
    """Issued with the coverage verdicts: open; good readings outvote: rectified, then
    verified closed after the verification window."""
    add_many(store, [-120, -120, -120], county="north", point="n-cp-1")
    (out,) = issue_notices(store, inv, counties=["north"], now=NOW,
                           extra=blind_spot_candidates(store, inv, NOW), coverage_judged=True)
    assert out.record is not None
    assert [(i.subject, i.problem, i.kind) for i in out.record.items] == [
        ("n-cp-1", "blind_spot", "pdt")]
    assert _items(store) == [("n-cp-1", "blind_spot", "open", None)]
    later = NOW + DAY
    add_many(store, [-80, -80, -80, -80], county="north", point="n-cp-1", taken_at=later - 60)
    issue_notices(store, inv, counties=["north"], now=later,
                  extra=blind_spot_candidates(store, inv, later), coverage_judged=True)
    assert _items(store) == [("n-cp-1", "blind_spot", "rectified", None)]
    verified = later + inv.notices.verification_window_seconds
    issue_notices(store, inv, counties=["north"], now=verified,
                  extra=blind_spot_candidates(store, inv, verified), coverage_judged=True)
    assert _items(store) == [("n-cp-1", "blind_spot", "closed", "verified")]
