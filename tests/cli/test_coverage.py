"""``netwatch coverage plan`` end to end on a small inventory and a real database."""

from __future__ import annotations

import time
from pathlib import Path

from click.testing import CliRunner

from netwatch.cli import main
from netwatch.store import Store
from tests.coverage.city import INVENTORY, add, open_fault


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["coverage", "plan", *args])
    return done.exit_code, done.output


def _city(tmp_path: Path) -> tuple[Path, Path]:
    inventory, db = tmp_path / "inventory.yaml", tmp_path / "netwatch.db"
    inventory.write_text(INVENTORY, encoding="utf-8")
    recent = time.time() - 3600
    with Store.open(db) as store:
        for _ in range(3):
            add(store, county="north", point="n-cp-1", rssi_dbm=-120, taken_at=recent)
            add(store, county="north", point="n-cp-3", lat=38.65, lon=106.15, rssi_dbm=-119,
                taken_at=recent)
        open_fault(store, "n-ts-1", "unreachable")
    return inventory, db


def test_plan_writes_each_countys_files_and_a_summary(tmp_path: Path) -> None:
    """One line per county; the blind county counts its causes, the others say none."""
    inventory, db = _city(tmp_path)
    out = tmp_path / "plans"
    code, text = run(str(inventory), "--db", str(db), "--out", str(out))
    assert code == 0, text
    assert text.splitlines() == [
        f"east: no blind spots ({out / 'east' / 'plan.html'})",
        f"north: 2 blind spots (coverage_hole 1, site_down 1) {out / 'north' / 'plan.html'}",
        f"south: no blind spots ({out / 'south' / 'plan.html'})",
    ]
    page = (out / "north" / "plan.html").read_text(encoding="utf-8")
    assert page.index("n-cp-1") < page.index("n-cp-3")  # priority 1 first
    assert "基站故障" in page and "&lt;script&gt;" in page
    assert (out / "north" / "plan.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert "未发现信号盲区" in (out / "south" / "plan.html").read_text(encoding="utf-8")


def test_plan_for_one_county_only(tmp_path: Path) -> None:
    inventory, db = _city(tmp_path)
    out = tmp_path / "plans"
    code, text = run(str(inventory), "--db", str(db), "--out", str(out), "--county", "south")
    assert (code, text) == (0, f"south: no blind spots ({out / 'south' / 'plan.html'})\n")
    assert [p.name for p in out.iterdir()] == ["south"]


def test_plan_refuses_an_unknown_county_and_a_missing_database(tmp_path: Path) -> None:
    inventory, db = _city(tmp_path)
    code, text = run(str(inventory), "--db", str(db), "--county", "atlantis")
    assert code == 2 and "unknown county atlantis" in text
    code, text = run(str(inventory), "--db", str(tmp_path / "none.db"), "--out",
                     str(tmp_path / "o"))
    assert code == 1 and "none.db" in text
    assert not (tmp_path / "o").exists()
