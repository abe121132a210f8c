"""Coverage metrics: every county × technology, per-point figures, a state set, promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from netwatch.coverage.analysis import analyse
from netwatch.coverage.metrics import coverage_families
from netwatch.coverage.snapshot import TTL_SECONDS, Snapshot
from netwatch.inventory import Inventory
from netwatch.store import Store, StoreThread
from tests.coverage.city import NOW, add, add_many, load_city


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return load_city(tmp_path)


def _text(store: Store, inv: Inventory, now: float = NOW) -> str:
    return "".join(f.text() for f in coverage_families(analyse(store, inv, now), inv))


def test_families_values_and_promtool(store: Store, inv: Inventory) -> None:
    add_many(store, [-120, -121, -119], county="north", point="n-cp-1")
    add_many(store, [-95, -96, -94], county="south", point="s-cp-1", lat=38.2, lon=106.02)
    for _ in range(3):
        add(store, county="east", lat=38.52, lon=106.7, rssi_dbm=-125)
    text = _text(store, inv)
    assert 'netwatch_blind_spots{county="north",technology="pdt"} 1' in text
    assert 'netwatch_blind_spots{county="east",technology="pdt"} 1' in text  # the cell
    assert 'netwatch_blind_spots{county="south",technology="broadband"} 0' in text
    assert text.count("netwatch_blind_spots{") == 6
    assert ('netwatch_coverage_point_signal_dbm{county="north",point="n-cp-1",'
            'technology="pdt"} -120.0') in text
    assert 'netwatch_coverage_point_readings{county="south",point="s-cp-1"} 3' in text
    assert 'netwatch_coverage_point_readings{county="east",point="e-cp-1"} 0' in text
    assert 'netwatch_coverage_point_class{county="south",point="s-cp-1",class="fair"} 1' in text
    assert 'netwatch_coverage_point_class{county="south",point="s-cp-1",class="good"} 0' in text
    assert 'netwatch_coverage_point_class{county="east",point="e-cp-1",class="unsurveyed"} 1' \
        in text
    assert text.count('point="n-cp-1",class=') == 5
    assert "point=\"e-cp-1\",technology" not in text  # unsurveyed: no median sample
    assert "北镇政府" not in text and "lat=" not in text  # names and places: _info only
    done = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


async def test_the_snapshot_is_analysed_again_only_when_stale(store: Store, db: StoreThread,
                                                             inv: Inventory) -> None:
    """Unchanged inputs reuse the analysis; a new reading, or the TTL, make a new one;
    scrapes (``latest``) never analyse merely because the report is stale."""
    snapshot = Snapshot()
    first = await snapshot.refresh(db, inv, NOW)
    assert await snapshot.refresh(db, inv, NOW + TTL_SECONDS / 2) is first
    add_many(store, [-120, -121, -119], county="north", point="n-cp-1")
    assert await snapshot.latest(db, inv, NOW + TTL_SECONDS / 2) is first
    assert snapshot.runs == 1
    second = await snapshot.refresh(db, inv, NOW + TTL_SECONDS / 2)
    assert snapshot.runs == 2
    text = "".join(f.text() for f in coverage_families(second, inv))
    assert 'netwatch_blind_spots{county="north",technology="pdt"} 1' in text
    await snapshot.refresh(db, inv, NOW + 1.6 * TTL_SECONDS)  # the window moved on
    assert snapshot.runs == 3


async def test_recent_analyses_on_demand_at_most_once_per_period(store: Store, db: StoreThread,
                                                                 inv: Inventory) -> None:
    """An instance not running the duties analyses for its web API on demand: a report of
    this inventory younger than ``within`` is served as it is, an older one only analysed
    again when a reading (or a site fault) changed its inputs."""
    snapshot = Snapshot()
    first = await snapshot.recent(db, inv, 15.0, NOW)
    assert snapshot.runs == 1
    add_many(store, [-120, -121, -119], county="north", point="n-cp-1")
    assert await snapshot.recent(db, inv, 15.0, NOW + 10) is first  # within the period
    second = await snapshot.recent(db, inv, 15.0, NOW + 16)  # past it, and a new reading
    assert snapshot.runs == 2 and second is not first
    assert await snapshot.recent(db, inv, 15.0, NOW + 40) is second  # past it, nothing new
    assert snapshot.runs == 2
