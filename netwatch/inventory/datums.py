"""China's map datums to WGS-84: the one implementation every part uses.

Phones that use Chinese map SDKs report GCJ-02 ("Mars" coordinates, a published
obfuscation of WGS-84 with a 300–500 m shift) and Baidu's SDK BD-09 (a further
rotation of GCJ-02); netwatch stores and compares everything in WGS-84. GCJ-02 has a
closed-form forward transform only, so the inverse iterates it to well under
0.5 m. Outside China the offset is not applied (the datums coincide there).
All functions take and return ``(lat, lon)`` in degrees. They live in the inventory
(below the survey) because the inventory converts its boundary files at load.
"""

from __future__ import annotations

import math

KRASOVSKY_A = 6378245.0  # semi-major axis the GCJ-02 formula uses
KRASOVSKY_EE = 0.00669342162296594323  # its first eccentricity squared
BD_PI = math.pi * 3000.0 / 180.0
INVERSE_TOLERANCE_DEG = 1e-9  # ≈ 0.1 mm: the iterative inverse stops below this step
INVERSE_MAX_STEPS = 30


def outside_china(lat: float, lon: float) -> bool:
    """The rough box within which GCJ-02 differs from WGS-84 (the formula's own test)."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift(x: float, y: float) -> tuple[float, float]:
    """The GCJ-02 offset polynomials of x = lon − 105, y = lat − 35 (degrees), before scaling."""
    sin, pi = math.sin, math.pi
    common = 20.0 * sin(6.0 * x * pi) + 20.0 * sin(2.0 * x * pi)
    waves_lat = common + 20.0 * sin(y * pi) + 40.0 * sin(y / 3.0 * pi)
    waves_lat += 160.0 * sin(y / 12.0 * pi) + 320.0 * sin(y / 30.0 * pi)
    waves_lon = common + 20.0 * sin(x * pi) + 40.0 * sin(x / 3.0 * pi)
    waves_lon += 150.0 * sin(x / 12.0 * pi) + 300.0 * sin(x / 30.0 * pi)
    root = math.sqrt(abs(x))
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * root
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * root
    return dlat + waves_lat * 2.0 / 3.0, dlon + waves_lon * 2.0 / 3.0


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """The published forward transform (metres of offset scaled on the Krasovsky ellipsoid)."""
    if outside_china(lat, lon):
        return lat, lon
    dlat, dlon = _shift(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - KRASOVSKY_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1 - KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * math.cos(rad) * math.pi)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Invert the forward transform by fixed-point iteration (converges in a few steps)."""
    wlat, wlon = lat, lon
    for _ in range(INVERSE_MAX_STEPS):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = glat - lat, glon - lon
        wlat, wlon = wlat - dlat, wlon - dlon
        if abs(dlat) < INVERSE_TOLERANCE_DEG and abs(dlon) < INVERSE_TOLERANCE_DEG:
            break
    return wlat, wlon


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """Undo Baidu's rotation of GCJ-02 (closed form, as Baidu's SDK documents it)."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * BD_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * BD_PI)
    return z * math.sin(theta), z * math.cos(theta)


def bd09_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(datum: str, lat: float, lon: float) -> tuple[float, float]:
    """A coordinate in ``datum`` (``wgs84``, ``gcj02``, ``bd09``) as WGS-84."""
    if datum == "wgs84":
        return lat, lon
    if datum == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if datum == "bd09":
        return bd09_to_wgs84(lat, lon)
    raise ValueError(f"unknown datum {datum!r}")
