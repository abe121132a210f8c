"""``netwatch survey import``: a CSV into the database, all or nothing, with a per-row report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from netwatch.cli import main
from netwatch.store import Store
from netwatch.survey.geo import haversine_m, wgs84_to_gcj02
from tests.survey.city import write_city


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["survey", "import", *args])
    return done.exit_code, done.output


def stored(db: Path) -> list[tuple[object, ...]]:
    with Store.open(db, create=False) as store:
        return [tuple(r) for r in store.conn.execute(
            "SELECT tester, county, point, lat, lon, source, note FROM readings ORDER BY id")]


def test_import_then_reimport(tmp_path: Path) -> None:
    """A good file is stored (exit 0) with source import; importing it again adds nothing."""
    inventory, db = write_city(tmp_path), tmp_path / "nw.db"
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    glat, glon = wgs84_to_gcj02(38.2, 106.1)
    csv = tmp_path / "walk.csv"
    csv.write_text("point,lat,lon,taken_at,technology,rssi_dbm,note\n"
                   f"n-cp-1,,,{when},pdt,-95,@north\n"
                   f",{glat},{glon},{when},pdt,-112,\n", encoding="utf-8")
    args = (str(csv), str(inventory), "--tester", "bob", "--datum", "gcj02", "--db", str(db))
    code, text = run(*args)
    assert code == 0, text
    assert "2 reading(s) stored" in text
    rows = stored(db)
    assert [(r[0], r[1], r[2], r[5], r[6]) for r in rows] == [
        ("bob", "north", "n-cp-1", "import", "'@north"), ("bob", "south", None, "import", None)]
    lat, lon = rows[1][3], rows[1][4]
    assert isinstance(lat, float) and isinstance(lon, float)
    assert haversine_m(lat, lon, 38.2, 106.1) < 0.5  # stored in WGS-84
    code, text = run(*args)
    assert code == 0 and len(stored(db)) == 2


def test_bad_rows_store_nothing(tmp_path: Path) -> None:
    """Any bad row: every problem as ``row N: field: reason``, exit 2, nothing stored."""
    inventory, db = write_city(tmp_path), tmp_path / "nw.db"
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    csv = tmp_path / "walk.csv"
    csv.write_text("point,taken_at,rssi_dbm\n"
                   f"n-cp-1,{when},-95\n"
                   f"n-cp-9,{when},-95\n"
                   f"n-cp-1,2026-01-01T00:00:00,-95\n", encoding="utf-8")
    code, text = run(str(csv), str(inventory), "--tester", "bob", "--db", str(db))
    assert code == 2
    assert "row 3: point: no such coverage point" in text
    assert "row 4: taken_at: needs a UTC offset (e.g. +08:00 or Z)" in text
    assert "nothing stored" in text
    assert stored(db) == []
    csv.write_text("point,rssi_dbm\nn-cp-1,abc\n", encoding="utf-8")
    code, text = run(str(csv), str(inventory), "--tester", "bob", "--db", str(db))
    assert code == 2 and "row 2: rssi_dbm: must be a number" in text


def test_client_id_conflict_exits_2(tmp_path: Path) -> None:
    """A client_id already stored for another reading is reported and nothing is stored."""
    inventory, db = write_city(tmp_path), tmp_path / "nw.db"
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    csv = tmp_path / "walk.csv"
    common = (str(csv), str(inventory), "--tester", "bob", "--db", str(db))
    csv.write_text(f"point,taken_at,rssi_dbm,client_id\nn-cp-1,{when},-95,k1\n")
    assert run(*common)[0] == 0
    csv.write_text(f"point,taken_at,rssi_dbm,client_id\ns-cp-1,{when},-90,k2\n"
                   f"n-cp-1,{when},-80,k1\n")
    code, text = run(*common)
    assert code == 2
    assert "row 3: client_id: this client_id was used for a different reading" in text
    assert len(stored(db)) == 1
