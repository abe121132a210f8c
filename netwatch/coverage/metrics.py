"""The coverage metrics provider: blind spots per county and technology, per-point figures.

Names and coordinates stay on ``netwatch_coverage_point_info`` (``netwatch.metrics``);
these series carry ids only. An analysis of a large survey takes a second or
more, so it is reused while nothing it reads has changed (no new reading, no
site fault opened or closed) for up to ``TTL_SECONDS``, after which readings
may have aged out of the window.
"""

from __future__ import annotations

import time

from netwatch.coverage.analysis import CoverageReport, analyse
from netwatch.coverage.classify import CLASSES, TECHNOLOGIES
from netwatch.metrics_text import Family, FamilySpec, labels
from netwatch.model import Inventory
from netwatch.store import Store

TTL_SECONDS = 60.0
BLIND = FamilySpec("netwatch_blind_spots", "gauge",
                   "Coverage points and surveyed cells whose median reading in the window is "
                   "under the blind limit, per county and technology.")
SIGNAL = FamilySpec("netwatch_coverage_point_signal_dbm", "gauge",
                    "Median signal level of the coverage point's readings in the window (PDT "
                    "RSSI or broadband RSRP, dBm); absent when unsurveyed or without signal.")
READINGS = FamilySpec("netwatch_coverage_point_readings", "gauge",
                      "Usable survey readings of the coverage point in the window.")
CLASS = FamilySpec("netwatch_coverage_point_class", "gauge",
                   "Coverage class of the point (1 for the current class, 0 for the others).")


def _inputs(store: Store) -> tuple[object, ...]:
    """What the analysis reads, in brief: the newest reading and the open fault episodes."""
    newest = store.conn.execute("SELECT max(id) FROM readings").fetchone()[0]
    faults = store.conn.execute("SELECT count(*), max(id) FROM fault_episodes "
                                "WHERE closed_at IS NULL").fetchone()
    return (newest, *faults)


class _Cache:
    """The latest analysis, reused while its inputs are unchanged, within the TTL."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] | None = None
        self.at = 0.0
        self.report: CoverageReport | None = None

    def get(self, store: Store, inventory: Inventory, now: float) -> CoverageReport:
        key = (id(store), id(inventory), *_inputs(store))
        if self.report is None or key != self.key or not 0 <= now - self.at < TTL_SECONDS:
            self.report = analyse(store, inventory, now)
            self.key, self.at = key, now
        return self.report


_cache = _Cache()


def coverage_families(store: Store, inventory: Inventory,
                      now: float | None = None) -> list[Family]:
    """Blind spots for every county × technology (0 included) and per-point figures."""
    report = _cache.get(store, inventory, time.time() if now is None else now)
    blind = Family(BLIND)
    counts = {(c, t): 0 for c in sorted(inventory.counties) for t in TECHNOLOGIES}
    for spot in report.blind_spots:
        key = (spot.verdict.county, spot.verdict.technology)
        if key in counts:
            counts[key] += 1
    for (county, tech), count in counts.items():
        blind.add(labels((("county", county), ("technology", tech))), count)
    signal, readings, klass = Family(SIGNAL), Family(READINGS), Family(CLASS)
    for v in report.points:
        point = (("county", v.county), ("point", v.id))
        if v.current.median_dbm is not None:
            signal.add(labels((*point, ("technology", v.technology))), v.current.median_dbm)
        readings.add(labels(point), v.current.readings)
        for name in CLASSES:
            klass.add(labels((*point, ("class", name))), 1 if name == v.klass else 0)
    return [blind, signal, readings, klass]
