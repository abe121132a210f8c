"""Blind spots as notice candidates (docs/notices.md): one per blind point, or cell and technology.

Severity (docs/notices.md): critical for a priority-1 point or a median at
least 10 dB under the blind limit (or no usable signal at all); major for a
priority-2 point or 5 dB under; minor otherwise. A blind spot whose serving site
is down refers to that site's item (``refers_to="device:<id>"``) so the notice
points at the outage rather than listing it twice. A cell whose readings belong
to a county no longer in the inventory has no one to notify and is left out. The
evidence keeps where the spot is (WGS-84), so a notice can map a cell, which the
inventory does not list.
"""

from __future__ import annotations

from netwatch.coverage.analysis import BlindSpot, CoverageReport, analyse
from netwatch.inventory import Inventory
from netwatch.notices import Candidate
from netwatch.store import Store
from netwatch.vocab import BlindCause, Problem

CRITICAL_UNDER_DB = 10.0
MAJOR_UNDER_DB = 5.0


def severity(priority: int, under_db: float) -> str:
    """The module docstring's rule."""
    if priority <= 1 or under_db >= CRITICAL_UNDER_DB:
        return "critical"
    if priority <= 2 or under_db >= MAJOR_UNDER_DB:
        return "major"
    return "minor"


def subject_of(spot: BlindSpot) -> str:
    """The item subject: the point id, or ``cell-<row>-<col>/<technology>`` for a cell."""
    v = spot.verdict
    return v.id if v.subject_type == "point" else f"{v.id}/{v.technology}"


def candidate(spot: BlindSpot, rectify_within_days: int) -> Candidate:
    v, cause = spot.verdict, spot.cause
    location = f"{v.lat:.5f}, {v.lon:.5f}" + (f" {v.name}" if v.name else "")
    median = v.current.median_dbm
    return Candidate(
        subject_type=v.subject_type, subject=subject_of(spot), county=v.county,
        problem=Problem.BLIND_SPOT, name=v.name or v.id, kind=v.technology, location=location,
        first_seen=v.first_taken if v.first_taken is not None else 0.0,
        severity=severity(v.priority, v.current.under_db),
        rectify_within_days=rectify_within_days,
        evidence={"median_dbm": None if median is None else round(median, 1),
                  "readings": v.current.readings, "threshold_dbm": v.current.threshold_dbm,
                  "cause": cause.kind, "site": cause.site,
                  "lat": round(v.lat, 6), "lon": round(v.lon, 6)},  # WGS-84: the map's
        refers_to=f"device:{cause.site}" if cause.kind == BlindCause.SITE_DOWN else None,
    )


def candidates_of(report: CoverageReport, inventory: Inventory) -> list[Candidate]:
    """Every blind spot of the report as a notice candidate (see the module docstring)."""
    days = inventory.coverage.rectify_within_days
    return [candidate(spot, days) for spot in report.blind_spots
            if spot.verdict.county in inventory.counties]


def blind_spot_candidates(store: Store, inventory: Inventory, now: float) -> list[Candidate]:
    """The candidates of an analysis made now (the CLI's; the daemon keeps a snapshot)."""
    return candidates_of(analyse(store, inventory, now), inventory)
