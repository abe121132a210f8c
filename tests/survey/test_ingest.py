"""ingest: all or nothing, county and scope, idempotency and 409, counters, retention, metrics."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from netwatch.inventory import Inventory
from netwatch.store import Store
from netwatch.survey.ingest import IngestError, Refusal, RowError, ingest
from netwatch.survey.metrics import survey_families
from netwatch.survey.prune import prune_readings
from tests.survey.city import NOW, TAKEN, load_city

BOTH_ENGINES = True  # the owners' rules hold on SQLite and on PostgreSQL

NORTH: dict[str, Any] = {"point": "n-cp-1", "taken_at": TAKEN, "rssi_dbm": -95}
SOUTH: dict[str, Any] = {"lat": 38.2, "lon": 106.1, "taken_at": TAKEN, "technology": "pdt",
                         "rssi_dbm": -112}
EAST: dict[str, Any] = {"lat": 38.5, "lon": 106.55, "taken_at": TAKEN, "technology": "pdt",
                        "no_service": True}


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return load_city(tmp_path)


def counts(store: Store) -> tuple[int, dict[str, int]]:
    n = store.execute("SELECT count(*) FROM readings").fetchone()[0]
    received = dict(store.execute("SELECT county, total FROM readings_received"))
    return n, received


def test_stores_a_batch_with_counties(store: Store, inv: Inventory) -> None:
    """Each reading gets its county (point's, polygon's or nearest place's) and is counted."""
    ids = ingest(store, inv, "alice", [NORTH, SOUTH, EAST], "api", NOW)
    assert len(ids) == 3 and len(set(ids)) == 3
    rows = store.execute("SELECT id, tester, county, point, lat, lon, taken_at, source, "
                              "no_service, received_at FROM readings ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [
        (ids[0], "alice", "north", "n-cp-1", 38.61, 106.01, NOW - 1800, "api", 0, NOW),
        (ids[1], "alice", "south", None, 38.2, 106.1, NOW - 1800, "api", 0, NOW),
        (ids[2], "alice", "east", None, 38.5, 106.55, NOW - 1800, "api", 1, NOW),
    ]
    assert counts(store) == (3, {"north": 1, "south": 1, "east": 1})


def test_one_bad_row_stores_nothing(store: Store, inv: Inventory) -> None:
    """A 400 names every bad row by index and field; the good rows are not stored either."""
    bad = {**SOUTH, "rssi_dbm": 5}
    with pytest.raises(IngestError) as caught:
        ingest(store, inv, "alice", [NORTH, bad, {**NORTH, "point": "x"}], "api", NOW)
    assert caught.value.refusal is Refusal.INVALID
    assert caught.value.problems == [RowError(1, "rssi_dbm", "must be within -140..-20"),
                                     RowError(2, "point", "no such coverage point")]
    assert counts(store) == (0, {})


def test_location_in_no_county(store: Store, inv: Inventory) -> None:
    """Inside the box but far from every county's places: refused, naming the row."""
    far = {**SOUTH, "lat": 38.0, "lon": 106.8}
    with pytest.raises(IngestError) as caught:
        ingest(store, inv, "alice", [far], "api", NOW, row_numbers=[7])
    assert caught.value.problems == [RowError(7, "lat", "not within any county of the inventory")]


def test_scope_outside_the_token(store: Store, inv: Inventory) -> None:
    """A row in a county outside the allowed ones is a 403 naming the row; nothing stored."""
    with pytest.raises(IngestError) as caught:
        ingest(store, inv, "bob", [NORTH, SOUTH], "api", NOW, allowed=frozenset({"north"}))
    assert caught.value.refusal is Refusal.OUTSIDE_SCOPE
    assert caught.value.problems == [
        RowError(1, "lat", "county south is outside this token's scope")]
    assert counts(store) == (0, {})
    assert len(ingest(store, inv, "bob", [NORTH], "api", NOW, allowed={"north"})) == 1


def test_resubmission_returns_the_same_ids(store: Store, inv: Inventory) -> None:
    """With or without client_id, the same body again gets the stored ids; nothing new."""
    batch = [{**NORTH, "client_id": "r-1"}, SOUTH]
    first = ingest(store, inv, "alice", batch, "api", NOW)
    again = ingest(store, inv, "alice", batch, "form", NOW + 60)
    assert again == first
    assert counts(store) == (2, {"north": 1, "south": 1})
    key = store.execute("SELECT idem_key FROM readings WHERE id = ?", (first[1],)).fetchone()
    assert key[0].startswith("sha256:") and len(key[0]) == 7 + 64
    other = ingest(store, inv, "carol", batch, "api", NOW)  # keys are per tester
    assert set(other).isdisjoint(first)


def test_same_key_different_body_is_a_conflict(store: Store, inv: Inventory) -> None:
    """A client_id reused for another reading is a 409; the batch's new rows are not stored."""
    ingest(store, inv, "alice", [{**NORTH, "client_id": "r-1"}], "api", NOW)
    with pytest.raises(IngestError) as caught:
        ingest(store, inv, "alice", [SOUTH, {**NORTH, "client_id": "r-1", "rssi_dbm": -80}],
               "api", NOW)
    assert caught.value.refusal is Refusal.CONFLICT
    assert caught.value.problems == [
        RowError(1, "client_id", "this client_id was used for a different reading")]
    assert counts(store) == (1, {"north": 1})


def test_duplicates_within_one_batch(store: Store, inv: Inventory) -> None:
    """The same reading twice in a batch is stored once; a clashing twin is a 409."""
    ids = ingest(store, inv, "alice", [SOUTH, SOUTH], "api", NOW)
    assert ids[0] == ids[1] and counts(store)[0] == 1
    with pytest.raises(IngestError) as caught:
        ingest(store, inv, "alice", [{**NORTH, "client_id": "x"},
                                     {**SOUTH, "client_id": "x"}], "api", NOW)
    assert caught.value.refusal is Refusal.CONFLICT and caught.value.problems[0].row == 1


def test_committed_for_other_connections(store: Store, inv: Inventory) -> None:
    """When ingest returns, another connection sees the readings (committed, not pending),
    and the store's usual durability is back for what follows."""
    ids = ingest(store, inv, "alice", [NORTH], "import", NOW)
    with Store.open(store.path) as other:
        assert [tuple(r) for r in other.query("SELECT id, source FROM readings")] == [
            (ids[0], "import")]
    usual = "PRAGMA synchronous" if isinstance(store.path, Path) else "SHOW synchronous_commit"
    assert store.scalar(usual) in (1, "off")  # SQLite's NORMAL, PostgreSQL's off


def test_prune_keeps_the_counter(store: Store, inv: Inventory) -> None:
    """Readings past retention (30 d here) are deleted; readings_received is not."""
    ingest(store, inv, "alice", [NORTH, SOUTH], "api", NOW)
    assert prune_readings(store, inv, NOW + 29 * 86400) == 0
    assert prune_readings(store, inv, NOW + 31 * 86400) == 2
    assert counts(store) == (0, {"north": 1, "south": 1})


def test_metrics_every_county_and_promtool(store: Store, inv: Inventory,
                                           tmp_path: Path) -> None:
    """The counter lists every county (0 when none) and passes promtool check metrics."""
    ingest(store, inv, "alice", [NORTH, SOUTH, {**SOUTH, "rssi_dbm": -100}], "api", NOW)
    text = "".join(f.text() for f in survey_families(store, inv))
    assert 'netwatch_survey_readings_received_total{county="south"} 2' in text
    assert 'netwatch_survey_readings_received_total{county="east"} 0' in text
    assert "# TYPE netwatch_survey_readings_received_total counter" in text
    done = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
