"""``netwatch notices generate|list`` end to end on a small inventory and a real database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from netwatch.cli import main
from netwatch.store import Store
from tests.notices.city import DAY, fault

INVENTORY = """\
city: {name: 示例市, timezone: Asia/Shanghai}
notices: {issuing_unit: 示例市公安局, prefix: 示公科信, contact: "张警官 0000-00000000"}
counties:
  - {id: east, name: 东区, receiving_unit: 东区公安分局}
  - {id: west, name: 西区, receiving_unit: 西区公安分局}
devices:
  - {id: cam-1, kind: camera, county: east, address: 127.107.0.1, name: 人民路口, site: 人民路}
  - {id: cam-2, kind: camera, county: west, address: 127.107.0.2}
"""


def run(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(main, ["notices", *args])
    return done.exit_code, done.output


def test_generate_list_and_refuse_an_earlier_date(tmp_path: Path) -> None:
    """generate issues one notice per county with items, says "nothing to report" for others,
    finds the same notice again, lists it, and refuses a date before the last notice."""
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    db, out = tmp_path / "netwatch.db", tmp_path / "out"
    with Store.open(db) as store:
        fault(store, "cam-1", 1.79e9 - 2 * DAY)  # 2026-09-19, long past the grace period
    common = (str(inventory), "--db", str(db), "--out", str(out))
    code, text = run("generate", *common, "--date", "2026-09-21")
    assert code == 0, text
    number = "示公科信〔2026〕1号"
    html = out / "east" / "2026-09-21_示公科信2026-1.zh.html"
    assert text.splitlines() == [f"east: {number} {html}", "west: no notice: nothing to report"]
    assert html.is_file() and "东区公安分局" in html.read_text()
    code, text = run("generate", *common, "--date", "2026-09-21", "--county", "east",
                     "--lang", "en")
    assert (code, text) == (0, f"east: {number} {html.with_name(html.name[:-8] + '.en.html')} "
                               "(already issued)\n")
    code, text = run("list", str(inventory), "--db", str(db))
    assert code == 0, text
    lines = text.splitlines()
    assert lines[0] == f"east: {number} 2026-09-21 (1 items)"
    assert lines[1].startswith("  item ") and lines[1].endswith(" cam-1 unreachable: open")
    assert lines[2] == "west: no notice"
    code, text = run("generate", *common, "--date", "2026-09-20")
    assert code == 1
    assert f"--date 2026-09-20: before the last issued notice ({number} of 2026-09-21)" in text
    code, text = run("generate", *common, "--county", "north")
    assert code == 2 and "unknown county north" in text
