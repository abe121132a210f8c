"""The coverage metrics provider: blind spots per county and technology, per-point figures.

Names and coordinates stay on ``netwatch_coverage_point_info`` (``netwatch.metrics.exposition``);
these series carry ids only. They are read from a report (the daemon's latest,
``netwatch.coverage.snapshot``), never analysed at scrape time.
"""

from __future__ import annotations

from netwatch.coverage.analysis import CoverageReport
from netwatch.coverage.classify import CLASSES, TECHNOLOGIES
from netwatch.inventory import Inventory
from netwatch.metrics import Family, FamilySpec, labels

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


def coverage_families(report: CoverageReport, inventory: Inventory) -> list[Family]:
    """Blind spots for every county × technology (0 included) and per-point figures."""
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
