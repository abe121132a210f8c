"""The class of a set of readings (docs/coverage.md): good, fair, weak, blind or unsurveyed.

Each reading gives one level in dBm (PDT: ``rssi_dbm``; broadband: ``rsrp_dbm``).
A reading that cannot carry a call counts as under every threshold, its level
``-inf``: ``no_service``, a PDT bit-error rate over ``max_ber``, a broadband SINR
under ``sinr_min_db``. The class is that of the median level; fewer than
``min_readings`` readings is ``unsurveyed``, never blind.

Broadband thresholds give one criterion only (RSRP ≥ ``rsrp_min_dbm``); its
bands mirror PDT's (a guess, docs/coverage.md): good 20 dB above it, fair 10 dB above,
weak down to it, blind under it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from netwatch.inventory import CoverageThresholds

CLASSES: tuple[str, ...] = ("good", "fair", "weak", "blind", "unsurveyed")
JUDGED_ORDER = {"blind": 0, "weak": 1, "fair": 2, "good": 3}  # higher is better
TRENDS: tuple[str, ...] = ("better", "worse", "same", "new")
TECHNOLOGIES: tuple[str, ...] = ("pdt", "broadband")
BROADBAND_GOOD_DB = 20.0  # above rsrp_min_dbm
BROADBAND_FAIR_DB = 10.0
NO_SIGNAL = -math.inf


@dataclass(frozen=True, slots=True)
class Judgement:
    """A window's verdict: class, median level (None: unsurveyed or no usable signal)."""

    klass: str  # CLASSES
    median_dbm: float | None
    readings: int
    threshold_dbm: float  # the blind limit of the technology in this county

    @property
    def under_db(self) -> float:
        """How far the median lies under the blind limit (inf without usable signal)."""
        if self.median_dbm is None:
            return math.inf if self.klass == "blind" else 0.0
        return max(self.threshold_dbm - self.median_dbm, 0.0)


def bands(technology: str, thresholds: CoverageThresholds) -> tuple[float, float, float]:
    """The good, fair and weak lower limits in dBm (under the weak limit is blind)."""
    if technology == "pdt":
        p = thresholds.pdt
        return p.good_dbm, p.fair_dbm, p.weak_dbm
    low = thresholds.broadband.rsrp_min_dbm
    return low + BROADBAND_GOOD_DB, low + BROADBAND_FAIR_DB, low


def level(technology: str, thresholds: CoverageThresholds, no_service: bool,
          rssi_dbm: float | None, ber: float | None, rsrp_dbm: float | None,
          sinr_db: float | None) -> float | None:
    """One reading's level in dBm, ``-inf`` when it cannot carry a call, None when unusable."""
    if no_service:
        return NO_SIGNAL
    if technology == "pdt":
        if ber is not None and ber > thresholds.pdt.max_ber:
            return NO_SIGNAL
        return rssi_dbm
    if sinr_db is not None and sinr_db < thresholds.broadband.sinr_min_db:
        return NO_SIGNAL
    return rsrp_dbm


def median(values: Sequence[float]) -> float:
    """The median; two middle values average (``-inf`` with anything stays ``-inf``)."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def judge(levels: Sequence[float], technology: str, thresholds: CoverageThresholds,
          min_readings: int) -> Judgement:
    """The class of one window's levels (see the module docstring)."""
    good, fair, weak = bands(technology, thresholds)
    if len(levels) < min_readings or not levels:
        return Judgement("unsurveyed", None, len(levels), weak)
    mid = median(levels)
    if mid >= good:
        klass = "good"
    elif mid >= fair:
        klass = "fair"
    elif mid >= weak:
        klass = "weak"
    else:
        klass = "blind"
    return Judgement(klass, mid if math.isfinite(mid) else None, len(levels), weak)


def trend(current: str, previous: str) -> str:
    """Compared with the previous window: ``new`` when that one had no verdict.

    An unsurveyed current window after a judged one is ``same``: too few readings
    say nothing about coverage getting better or worse.
    """
    if previous == "unsurveyed":
        return "new"
    if current == "unsurveyed":
        return "same"
    now_rank, then_rank = JUDGED_ORDER[current], JUDGED_ORDER[previous]
    if now_rank == then_rank:
        return "same"
    return "better" if now_rank > then_rank else "worse"
