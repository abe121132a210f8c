"""Reading classes: thresholds at their boundaries, medians, BER, SINR, no service, trend."""

from __future__ import annotations

import math

import pytest

from netwatch.coverage.classify import judge, level, median, trend
from netwatch.inventory import BroadbandThresholds, CoverageThresholds, PdtThresholds

CITY = CoverageThresholds()
STRICT = CoverageThresholds(pdt=PdtThresholds(good_dbm=-80, fair_dbm=-90, weak_dbm=-95,
                                              max_ber=0.02),
                            broadband=BroadbandThresholds(rsrp_min_dbm=-100, sinr_min_db=0))


@pytest.mark.parametrize(("dbm", "klass"), [
    (-60.0, "good"), (-90.0, "good"), (-90.1, "fair"), (-100.0, "fair"), (-100.1, "weak"),
    (-108.0, "weak"), (-108.1, "blind"), (-130.0, "blind"),
])
def test_pdt_classes_at_the_domain_defaults(dbm: float, klass: str) -> None:
    """A limit itself belongs to the better class; a tenth of a dB under it does not."""
    assert judge([dbm] * 3, "pdt", CITY, 3).klass == klass


@pytest.mark.parametrize(("dbm", "klass"), [
    (-90.0, "good"), (-90.1, "fair"), (-100.0, "fair"), (-110.0, "weak"), (-110.1, "blind"),
])
def test_broadband_bands_mirror_pdt_above_the_rsrp_criterion(dbm: float, klass: str) -> None:
    """Broadband: weak down to rsrp_min (−110), fair from +10 dB, good from +20 dB."""
    assert judge([dbm] * 3, "broadband", CITY, 3).klass == klass


def test_county_thresholds_are_used() -> None:
    """The same level is weak under the city's limits and blind under stricter ones."""
    assert judge([-100.5] * 3, "pdt", CITY, 3).klass == "weak"
    assert judge([-100.5] * 3, "pdt", STRICT, 3).klass == "blind"
    assert judge([-100.5] * 3, "pdt", STRICT, 3).threshold_dbm == -95


def test_median_decides_not_the_mean_or_the_worst() -> None:
    """Two good readings outvote one dead one; an even count averages the middle two."""
    assert judge([-70, -75, -140], "pdt", CITY, 3).klass == "good"
    assert median([-100.0, -110.0, -106.0, -120.0]) == -108.0
    assert judge([-100.0, -110.0, -106.0, -120.0], "pdt", CITY, 3).klass == "weak"
    assert judge([-100.0, -110.0, -107.0, -120.0], "pdt", CITY, 3).klass == "blind"


def test_fewer_than_min_readings_is_unsurveyed_never_blind() -> None:
    """Two dead readings with a minimum of three say nothing yet."""
    found = judge([-130.0, -130.0], "pdt", CITY, 3)
    assert (found.klass, found.median_dbm, found.readings) == ("unsurveyed", None, 2)
    assert judge([], "pdt", CITY, 1).klass == "unsurveyed"


def test_ber_over_the_maximum_counts_as_under_every_threshold() -> None:
    """BER at the limit keeps the level; over it the reading is as good as no signal."""
    assert level("pdt", CITY, False, -70.0, 0.05, None, None) == -70.0
    assert level("pdt", CITY, False, -70.0, 0.0501, None, None) == -math.inf
    assert level("pdt", STRICT, False, -70.0, 0.03, None, None) == -math.inf


def test_no_service_is_under_every_threshold_for_both_technologies() -> None:
    """A reading with no site lock has no level at all, whatever figures it carries."""
    assert level("pdt", CITY, True, None, None, None, None) == -math.inf
    assert level("broadband", CITY, True, None, None, -60.0, 20.0) == -math.inf
    found = judge([-math.inf] * 3, "pdt", CITY, 3)
    assert (found.klass, found.median_dbm, found.under_db) == ("blind", None, math.inf)


def test_sinr_under_the_minimum_counts_against_broadband() -> None:
    """RSRP alone would pass; SINR under −3 dB makes the reading unusable."""
    assert level("broadband", CITY, False, None, None, -80.0, -3.0) == -80.0
    assert level("broadband", CITY, False, None, None, -80.0, -3.5) == -math.inf


def test_under_db_is_the_depth_under_the_blind_limit() -> None:
    found = judge([-118.0, -120.0, -119.0], "pdt", CITY, 3)
    assert found.median_dbm == -119.0
    assert found.under_db == pytest.approx(11.0)
    assert judge([-80.0] * 3, "pdt", CITY, 3).under_db == 0.0


@pytest.mark.parametrize(("now", "before", "word"), [
    ("good", "blind", "better"), ("blind", "weak", "worse"), ("fair", "fair", "same"),
    ("blind", "unsurveyed", "new"), ("unsurveyed", "unsurveyed", "new"),
    ("unsurveyed", "good", "same"),
])
def test_trend_against_the_previous_window(now: str, before: str, word: str) -> None:
    assert trend(now, before) == word
