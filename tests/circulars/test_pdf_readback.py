"""The proof: a circular issued from stored history, its PDF read back with poppler
(pdftotext), every ranking table's rows checked against the database: the record stored in
``circulars`` and, for east, the rates recomputed from the raw rows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from netwatch.circulars import circular_by_id, issue_circular, render_pdf
from netwatch.store import Store
from tests.circulars.history import END, MONTH, inventory, november
from tests.circulars.test_figures import OFFLINE, rate, raw

MEASURES = {"online": "在线率", "video": "视频可用率", "clock": "时钟准确率"}
KINDS = {"camera": "视频监控", "camera_key_area": "重点区域视频监控", "switch": "交换机",
         "trunking_site": "数字集群基站", "vc_endpoint": "视频会议终端"}


def lines_of(pdf: Path) -> list[str]:
    """The PDF's lines as laid out, blanks removed (a table row's cells run together)."""
    out = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return ["".join(line.split()) for line in out.splitlines()]


def cells(row: dict[str, Any], target: float | None) -> tuple[str, str, str]:
    """A ranking row as the document prints it, from the stored JSON by plain formatting:
    the cells before the verdict, the verdict (达标/未达标/—), the cells after it."""
    ratio, meets = row["ratio"], row["meets_target"]
    before = "".join((
        "—" if row["rank"] is None else str(row["rank"]), row["county_name"],
        str(row["devices"]), "未监测" if ratio is None else f"{ratio * 100:.2f}%",
        "—" if target is None else f"{target * 100:.2f}%"))
    verdict = "—" if meets is None else ("达标" if meets else "未达标")
    return before, verdict, f"{row['monitored_hours']:.1f}{row['declared_hours']:.1f}"


def find_row(lines: list[str], start: int, row: tuple[str, str, str]) -> int:
    """The line of the row at or after ``start``; its verdict on the line, or wrapped in
    its narrow column onto the lines above and below (未达 / 标)."""
    before, verdict, after = row
    for n in range(start, len(lines)):
        line = lines[n]
        if line == before + verdict + after:
            return n
        if line == before + after and n > 0 and n + 1 < len(lines) \
                and lines[n - 1] + lines[n + 1] == verdict:
            return n
    raise AssertionError(f"row {row} not found after line {start}")


def test_the_pdf_ranking_tables_match_the_database(store: Store, tmp_path: Path) -> None:
    november(store)
    issued = issue_circular(store, inventory(), MONTH, END + 3600)
    pdf = tmp_path / "circular.pdf"
    pdf.write_bytes(render_pdf(issued.record))
    lines = lines_of(pdf)
    stored = json.loads(circular_by_id(store, issued.circular_id) or "{}")
    assert any("示公通〔2026〕1号" == line for line in lines)
    at = 0
    for n, table in enumerate(stored["rankings"], 1):
        caption = f"表{n}{MEASURES[table['measure']]}排名（{KINDS[table['kind']]}）"
        at = lines.index(caption, at)
        rows = sorted(table["rows"], key=lambda r: (r["rank"] is None, r["rank"] or 0))
        assert rows, caption
        for row in rows:  # in rank order, each row whole
            at = find_row(lines, at + 1, cells(row, table["target"]))
    # east's camera row, recomputed from the raw rows, is the one printed under its caption
    ratio, hours, declared = rate(["cam-1", "cam-2", "cam-v"], "east", OFFLINE, raw(store))
    number = 1 + [(t["measure"], t["kind"]) for t in stored["rankings"]].index(
        ("online", "camera"))
    caption = lines.index(f"表{number}在线率排名（视频监控）")
    assert find_row(lines, caption, (f"2东区3{ratio * 100:.2f}%95.00%", "达标",
                                     f"{hours:.1f}{declared:.1f}")) < caption + 8
