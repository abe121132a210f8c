"""What ``netwatch demo`` prepares before its daemon starts: a month of history, a
circular of that month marked as demonstration data, and an outage a county declares."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from netwatch.circulars import CircularRecord, every_circular, month_before
from netwatch.cli.demo import fast, prepare_state
from netwatch.inventory import DEMO_SECRETS, Inventory, demo_inventory_path, load_inventory
from netwatch.monitor import find_declarations
from netwatch.store import Store


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return fast(load_inventory(demo_inventory_path(), env=DEMO_SECRETS))


def test_a_demonstration_circular_of_last_month_and_a_declared_outage(
        tmp_path: Path, inventory: Inventory) -> None:
    db, out = tmp_path / "netwatch.db", tmp_path / "notices"
    prepare_state(db, inventory, out)
    month = month_before(time.time(), ZoneInfo(inventory.notices.timezone))[0]
    with Store.open(db) as store:
        [row] = every_circular(store)
        record = CircularRecord.from_json(
            (out / "circulars").glob("*.json").__next__().read_text(encoding="utf-8"))
        declared = find_declarations(store)
    assert (row["month"], record.month, record.demonstration) == (month, month, True)
    assert [r.county for r in record.recipients] == list(inventory.counties)
    # the seeded month ranks the counties: the poorly kept one named, its figures measured
    assert [m.county for m in record.criticised][-1] == "shiqiao"
    assert any(f.declared_count == 1 and f.declared_hours == 60.0 for f in record.counties)
    pdf = next((out / "circulars").glob("*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "演示数据" in text and record.number in text
    # one declared in the seeded month (made before it began), one today over sq-cam-044
    assert sorted((d.county, sorted(d.devices)[0], d.reason) for d in declared) == [
        ("pingchuan", "pc-cam-001", "roadworks"), ("shiqiao", "sq-cam-044", "roadworks")]
    assert all(d.made_at < d.starts or d.made_by == "demo" for d in declared)


def test_a_second_start_issues_and_declares_nothing_more(tmp_path: Path,
                                                         inventory: Inventory) -> None:
    db, out = tmp_path / "netwatch.db", tmp_path / "notices"
    prepare_state(db, inventory, out)
    with Store.open(db) as store:
        before = ([dict(r) for r in every_circular(store)], len(find_declarations(store)))
        episodes = store.scalar("SELECT count(*) FROM fault_episodes")
    prepare_state(db, inventory, out)
    with Store.open(db) as store:
        assert ([dict(r) for r in every_circular(store)],
                len(find_declarations(store))) == before
        assert store.scalar("SELECT count(*) FROM fault_episodes") == episodes
    assert len(list((out / "circulars").iterdir())) == 5
    assert json.loads(next((out / "circulars").glob("*.json")).read_text())["demonstration"]
