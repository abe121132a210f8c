"""Survey readings for ``netwatch demo``, so coverage panels and notices have something to show.

Deterministic and idempotent: every reading has a fixed ``client_id`` under the
tester ``demo-seed``, and readings already stored are not submitted again (their
``taken_at`` is relative to the first seeding, so resubmitting them later would be
a conflicting body). The plan gives the shipped demo city good, fair, weak and
blind points (one blind point behind a site whose uplink the demo scenario takes
down, one only ``no_service``), one point with too few readings (unsurveyed), and
a cluster of readings without a point that forms a blind cell.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from netwatch.inventory import Inventory
from netwatch.store import Store
from netwatch.survey.ingest import ingest
from netwatch.survey.readings import idem_keys

TESTER = "demo-seed"
READINGS_PER_POINT = 3
SPREAD = (-1.0, 0.0, 1.5)  # around the class level; the median stays the level

# point → PDT RSSI (dBm) or broadband (RSRP dBm, SINR dB); None: no service at all
PDT_PLAN: dict[str, float | None] = {
    "xa-cp-01": -114.0,  # blind; its site xa-ts-01 loses its uplink in the demo scenario
    "xa-cp-02": -78.0,  # good
    "xa-cp-04": -95.0,  # fair
    "lh-cp-01": -104.0,  # weak
    "lh-cp-02": -105.0,  # weak, its site's uplink is slow
    "pc-cp-01": -82.0,  # good
    "pc-cp-02": None,  # blind: no site lock
    "pc-cp-04": -97.0,  # fair
    "sq-cp-01": -85.0,  # good
    "sq-cp-02": -116.0,  # blind: a true coverage hole (its site is healthy)
    "sq-cp-04": -98.0,  # fair
}
BROADBAND_PLAN: dict[str, tuple[float, float]] = {
    "xa-cp-03": (-88.0, 12.0),
    "xa-cp-05": (-117.0, -5.0),  # blind
    "lh-cp-03": (-92.0, 9.0),
    "pc-cp-03": (-90.0, 10.0),
    "pc-cp-05": (-95.0, 6.0),
    "sq-cp-03": (-89.0, 11.0),
}
UNSURVEYED = ("lh-cp-04", -92.0)  # one reading only: fewer than min_readings
BLIND_CELL = (38.15, 106.45, (-117.0, -119.0, -115.0, -121.0, -118.0))  # in shiqiao


def _stamp(now: float, hours_ago: float) -> str:
    return datetime.fromtimestamp(now - hours_ago * 3600, UTC).isoformat()


def _point_rows(inventory: Inventory, now: float) -> list[dict[str, Any]]:
    known = {p.id for p in inventory.points}
    rows: list[dict[str, Any]] = []
    for n, (point, rssi) in enumerate(PDT_PLAN.items()):
        for k in range(READINGS_PER_POINT):
            row: dict[str, Any] = {"point": point, "technology": "pdt",
                                   "client_id": f"demo-{point}-{k}",
                                   "taken_at": _stamp(now, 2 + n + 24 * k)}
            if rssi is None:
                row["no_service"] = True
            else:
                row["rssi_dbm"] = rssi + SPREAD[k]
            rows.append(row)
    for n, (point, (rsrp, sinr)) in enumerate(BROADBAND_PLAN.items()):
        rows += [{"point": point, "technology": "broadband", "client_id": f"demo-{point}-{k}",
                  "taken_at": _stamp(now, 3 + n + 24 * k), "rsrp_dbm": rsrp + SPREAD[k],
                  "sinr_db": sinr + SPREAD[k]} for k in range(READINGS_PER_POINT)]
    point, rssi = UNSURVEYED
    rows.append({"point": point, "technology": "pdt", "client_id": f"demo-{point}-0",
                 "taken_at": _stamp(now, 5), "rssi_dbm": rssi})
    return [r for r in rows if r["point"] in known]


def _cell_rows(now: float) -> list[dict[str, Any]]:
    lat, lon, levels = BLIND_CELL
    return [{"lat": lat, "lon": lon, "technology": "pdt", "rssi_dbm": level,
             "client_id": f"demo-cell-{k}", "taken_at": _stamp(now, 4 + k),
             "note": "demo: walk along the river road"} for k, level in enumerate(levels)]


def seed_demo_readings(store: Store, inventory: Inventory, now: float) -> int:
    """Store the demo's readings not yet stored; returns how many were added."""
    have = idem_keys(store, TESTER)
    rows = [r for r in _point_rows(inventory, now) + _cell_rows(now)
            if r["client_id"] not in have]
    if not rows:
        return 0
    return len(ingest(store, inventory, TESTER, rows, "import", now))
