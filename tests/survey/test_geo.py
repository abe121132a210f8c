"""Datum conversions against published coordinate pairs, distances and point in polygon."""

from __future__ import annotations

import pytest

from netwatch.survey.geo import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    haversine_m,
    point_in_polygon,
    to_wgs84,
    wgs84_to_gcj02,
)

# (wgs lat, wgs lon, gcj lat, gcj lon) from googollee/eviltransform, python/test.py (TESTS)
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# wandergis/coordtransform, test/app.js (arguments are lon, lat there):
# wgs84togcj02(116.404, 39.915) and bd09togcj02(116.404, 39.915)
COORDTRANSFORM_WGS_TO_GCJ = ((39.915, 116.404), (39.91640428150164, 116.41024449916938))
COORDTRANSFORM_BD_TO_GCJ = ((39.915, 116.404), (39.90865673957631, 116.39762729119315))
DEG = 1e-7  # ≈ 1 cm


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM)
def test_forward_matches_eviltransform(wlat: float, wlon: float, glat: float,
                                       glon: float) -> None:
    """WGS-84 → GCJ-02 reproduces eviltransform's published pairs."""
    lat, lon = wgs84_to_gcj02(wlat, wlon)
    assert lat == pytest.approx(glat, abs=DEG) and lon == pytest.approx(glon, abs=DEG)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM)
def test_inverse_within_half_a_metre(wlat: float, wlon: float, glat: float,
                                     glon: float) -> None:
    """GCJ-02 → WGS-84 lands within 0.5 m of the original (eviltransform's exact bound)."""
    assert haversine_m(*gcj02_to_wgs84(glat, glon), wlat, wlon) < 0.5


def test_coordtransform_pairs() -> None:
    """The forward and BD-09 transforms reproduce coordtransform's published results."""
    (lat, lon), (glat, glon) = COORDTRANSFORM_WGS_TO_GCJ
    assert wgs84_to_gcj02(lat, lon) == pytest.approx((glat, glon), abs=DEG)
    (lat, lon), (glat, glon) = COORDTRANSFORM_BD_TO_GCJ
    assert bd09_to_gcj02(lat, lon) == pytest.approx((glat, glon), abs=DEG)


def test_round_trips_across_the_demo_city() -> None:
    """Everywhere in the demo city the inverse undoes the forward transform to < 0.5 m."""
    for i in range(10):
        for j in range(10):
            lat, lon = 37.95 + 0.09 * i, 105.75 + 0.11 * j
            assert haversine_m(*gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon)), lat, lon) < 0.5


def test_bd09_chain_and_shift_size() -> None:
    """BD-09 → WGS-84 goes through GCJ-02, and China's offsets are hundreds of metres."""
    bd = (38.5, 106.1)
    assert bd09_to_wgs84(*bd) == to_wgs84("bd09", *bd) == gcj02_to_wgs84(*bd09_to_gcj02(*bd))
    assert 100 < haversine_m(*to_wgs84("gcj02", *bd), *bd) < 1000
    assert 100 < haversine_m(*to_wgs84("bd09", *bd), *bd) < 2000
    assert to_wgs84("wgs84", *bd) == bd
    with pytest.raises(ValueError, match="datum"):
        to_wgs84("utm", *bd)


def test_outside_china_is_unchanged() -> None:
    """The offset applies only inside China's box (Paris stays where it is)."""
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)
    assert gcj02_to_wgs84(48.8566, 2.3522) == (48.8566, 2.3522)


def test_haversine() -> None:
    """One degree of latitude is about 111.2 km; a point is 0 m from itself."""
    assert haversine_m(38.0, 106.0, 39.0, 106.0) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(38.0, 106.0, 38.0, 106.0) == 0


def test_point_in_polygon() -> None:
    """Inside, outside, on an edge, and a concave ring's notch."""
    square = [(105.8, 38.4), (106.3, 38.4), (106.3, 38.8), (105.8, 38.8)]
    assert point_in_polygon(38.6, 106.0, square)
    assert not point_in_polygon(38.9, 106.0, square)
    assert point_in_polygon(38.4, 106.0, square)  # on the edge
    notch = [(0, 0), (4, 0), (4, 4), (2, 2), (0, 4)]  # (lon, lat), a V cut from the top
    assert point_in_polygon(1, 1, notch)
    assert not point_in_polygon(3.5, 2, notch)
