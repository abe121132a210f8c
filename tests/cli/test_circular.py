"""``netwatch circular generate|list`` end to end on a small inventory and a real database."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from netwatch.cli import main
from netwatch.store import Store
from tests.notices.city import at, fault, recover

INVENTORY = """\
city: {name: 示例市, timezone: Asia/Shanghai}
notices:
  issuing_unit: 示例市公安局
  prefix: 示公科信
  circular: {prefix: 示公通}
counties:
  - {id: east, name: 东区, receiving_unit: 东区公安分局}
  - {id: west, name: 西区, receiving_unit: 西区公安分局}
devices:
  - {id: cam-1, kind: camera, county: east, address: 127.107.0.1, name: 人民路口, site: 人民路}
  - {id: cam-2, kind: camera, county: west, address: 127.107.0.2}
"""


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["circular", *args])
    return done.exit_code, done.output


def test_generate_writes_the_files_once_and_list_shows_it(tmp_path: Path) -> None:
    """October 2025: cam-1 down a day. generate prints the number and the files; again,
    the same number "(already issued)"; list shows it; the JSON record has the rate."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    db, out = tmp_path / "netwatch.db", tmp_path / "out"
    with Store.open(db) as store:
        recover(store, fault(store, "cam-1", at("2025-10-10", 0)), at("2025-10-11", 0))
    common = ("--inventory", str(inventory), "--db", str(db), "--out", str(out))
    code, text = run("generate", *common, "--month", "2025-10")
    assert code == 0, text
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    number = f"示公通〔{year}〕1号"
    lines = text.splitlines()
    assert lines[0] == f"2025-10: {number}"
    files = sorted(Path(line.strip()).suffix for line in lines[1:])
    assert files == [".docx", ".html", ".json", ".pdf", ".xlsx"]
    assert all(Path(line.strip()).is_file() for line in lines[1:])
    record = json.loads(next(Path(x.strip()) for x in lines[1:] if x.endswith(".json"))
                        .read_text())
    [cameras] = [t for t in record["rankings"] if t["kind"] == "camera"]
    assert [(r["county"], r["ratio"]) for r in cameras["rows"]] == [
        ("west", 1.0), ("east", round(1 - 1 / 31, 6))]
    code, again = run("generate", str(inventory), "--db", str(db), "--out", str(out),
                      "--month", "2025-10")
    assert code == 0 and again.splitlines()[0] == f"2025-10: {number} (already issued)"
    code, text = run("list", "--db", str(db))
    assert code == 0 and text.startswith(f"2025-10: {number} issued ")


def test_a_bad_month_and_a_month_not_over_are_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    common = ("--inventory", str(inventory), "--db", str(tmp_path / "netwatch.db"),
              "--out", str(tmp_path / "out"))
    code, text = run("generate", *common, "--month", "2026-13")
    assert code == 1 and "month '2026-13': expected YYYY-MM, e.g. 2026-11" in text
    this_month = time.strftime("%Y-%m", time.localtime(time.time() + 86400 * 2))
    code, text = run("generate", *common, "--month", this_month)
    assert code == 1 and f"month {this_month}: not over until" in text
    assert not (tmp_path / "out").exists()
    code, text = run("generate", str(inventory), "--inventory", str(tmp_path / "other.yaml"),
                     "--month", "2025-10")
    assert code == 2 and "two inventories given" in text
