"""The demo's seeded readings: every class of point, a no_service point, a blind cell; once."""

from __future__ import annotations

import statistics
import time

from netwatch.inventory import DEMO_SECRETS, demo_inventory_path, load_inventory
from netwatch.store import Store
from netwatch.survey.demo_seed import TESTER, seed_demo_readings


def test_seed_covers_every_class_and_is_idempotent(store: Store) -> None:
    """Good, fair, weak, blind and unsurveyed points, no_service and a point-less blind cell."""
    inv = load_inventory(demo_inventory_path(), env=DEMO_SECRETS)
    now = time.time()
    added = seed_demo_readings(store, inv, now)
    assert added > 0
    assert seed_demo_readings(store, inv, now + 3600) == 0  # a later demo start adds nothing
    rows = store.conn.execute("SELECT point, technology, rssi_dbm, rsrp_dbm, no_service, lat, "
                              "lon, county, tester FROM readings").fetchall()
    assert len(rows) == added and {r["tester"] for r in rows} == {TESTER}
    per_point: dict[str, list[float]] = {}
    for r in rows:
        if r["point"] and r["technology"] == "pdt" and not r["no_service"]:
            per_point.setdefault(r["point"], []).append(r["rssi_dbm"])
    medians = {p: statistics.median(v) for p, v in per_point.items() if len(v) >= 3}
    assert any(m >= -90 for m in medians.values())  # good
    assert any(-100 <= m < -90 for m in medians.values())  # fair
    assert any(-108 <= m < -100 for m in medians.values())  # weak
    assert any(m < -108 for m in medians.values())  # blind
    assert [p for p, v in per_point.items() if len(v) < inv.coverage.min_readings] == ["lh-cp-04"]
    surveyed = {r["point"] for r in rows if r["point"]}
    assert surveyed == {p.id for p in inv.points}
    assert any(r["no_service"] for r in rows)
    cell = [r for r in rows if r["point"] is None]
    assert len(cell) >= inv.coverage.min_readings
    assert len({(r["lat"], r["lon"], r["county"]) for r in cell}) == 1
    assert statistics.median(r["rssi_dbm"] for r in cell) < -108
