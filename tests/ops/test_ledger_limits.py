"""Hostile ledgers, made small here, are refused with a message naming the cap.

Each file is a few kilobytes that stood (before the caps) for gigabytes of work:
one merged range over a whole sheet, a million rows, a zip member that inflates
far beyond the file. Timings and peak memory are in bench/bench_ledger.py; here
only what is refused and what it says.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from netwatch.inventory.ledger import LedgerError, read_ledger
from tests.ops import hostile_ledgers as h


def refusal(path: Path) -> str:
    with pytest.raises(LedgerError) as caught:
        read_ledger(path, "xingan")
    return str(caught.value)


def test_one_merged_range_over_the_whole_sheet(tmp_path: Path) -> None:
    """The audit's 1.8 KB file: A5:XFD1048576 is refused, not filled cell by cell."""
    path = h.merged_over_the_sheet(tmp_path / "merged.xlsx")
    assert path.stat().st_size < 2000
    assert refusal(path) == (f"{path}: sheet Sheet1: merged range A5:XFD1048576 takes the merged"
                             " cells past 1,000,000: refused (unmerge it and save again)")


def test_many_small_merges_are_counted_together(tmp_path: Path) -> None:
    merges = "".join(f'<mergeCell ref="A{r}:K{r + 999}"/>' for r in range(5, 100_000, 1000))
    path = h.write_xlsx(tmp_path / "merges.xlsx", h.sheet(h.usual_rows(),
                                                          f"<mergeCells>{merges}</mergeCells>"))
    assert "takes the merged cells past 1,000,000: refused" in refusal(path)


def test_a_title_merged_across_the_whole_row_is_fine(tmp_path: Path) -> None:
    """A1:XFD1 (a title merged by selecting the row) is clipped, not refused."""
    path = h.write_xlsx(tmp_path / "title.xlsx", h.sheet(
        [h.row(1, ["台账"]), h.row(2, h.HEADER), h.row(3, ("cam-1", "127.62.0.1", "球机"))],
        '<mergeCells><mergeCell ref="A1:XFD1"/></mergeCells>'))
    assert [d["id"] for d in read_ledger(path, "xingan").devices] == ["cam-1"]


def test_more_rows_than_a_ledger_has(tmp_path: Path) -> None:
    """100,001 row elements: refused while scanning, before any row is read."""
    path = h.many_rows(tmp_path / "rows.xlsx", 100_000)
    assert refusal(path) == (f"{path}: sheet Sheet1: more than 100,000 rows: refused (a ledger"
                             " has far fewer; delete the empty rows below it and save again)")


def test_a_row_far_below_and_a_cell_far_right(tmp_path: Path) -> None:
    far = h.write_xlsx(tmp_path / "far.xlsx", h.sheet(
        [h.row(1, h.HEADER), '<row r="1048576"><c r="A1048576"><v>1</v></c></row>']))
    assert refusal(far) == (f"{far}: sheet Sheet1: row 1,048,576 is beyond row 100,000: refused"
                            " (delete the empty rows below the ledger and save again)")
    wide = h.write_xlsx(tmp_path / "wide.xlsx", h.sheet(
        [h.row(1, h.HEADER), '<row r="2"><c r="XFD2"><v>1</v></c></row>']))
    assert refusal(wide) == (f"{wide}: sheet Sheet1: cell XFD2 is beyond column 256: refused"
                             " (delete the empty columns to the right of the ledger and save"
                             " again)")


def test_a_zip_bomb_is_refused_by_the_sizes_its_zip_declares(tmp_path: Path) -> None:
    """A member declaring 2 GB is refused before anything is inflated."""
    path = h.declare_size(h.write_xlsx(tmp_path / "bomb.xlsx", h.sheet(h.usual_rows())),
                          "xl/worksheets/sheet1.xml", 2_000_000_000)
    assert refusal(path) == (f"{path}: the workbook unpacks to 1907.3 MiB, over the 256 MiB"
                             " limit for a ledger (xl/worksheets/sheet1.xml alone declares"
                             " 1907.3 MiB; a zip bomb?): refused")


def test_a_member_that_inflates_past_its_declared_size_is_cut_short(tmp_path: Path) -> None:
    """Declared 100 bytes, holding more: zipfile stops at 100 and the check sum fails."""
    path = h.declare_size(h.write_xlsx(tmp_path / "liar.xlsx", h.sheet(h.usual_rows())),
                          "xl/worksheets/sheet1.xml", 100)
    message = refusal(path)
    assert message.startswith(f"{path}: cannot read as an .xlsx workbook: Bad CRC-32"), message


def test_a_sheet_or_a_part_over_its_own_limit(tmp_path: Path) -> None:
    sheet = h.declare_size(h.write_xlsx(tmp_path / "sheet.xlsx", h.sheet(h.usual_rows())),
                           "xl/worksheets/sheet1.xml", 65 * 1024 * 1024)
    assert refusal(sheet) == (f"{sheet}: sheet Sheet1 unpacks to 65 MiB, over the 64 MiB limit"
                              " for a ledger sheet: refused")
    strings = h.declare_size(
        h.write_xlsx(tmp_path / "strings.xlsx", h.sheet(h.usual_rows()), strings="<sst/>"),
        "xl/sharedStrings.xml", 17 * 1024 * 1024)
    assert refusal(strings) == (f"{strings}: xl/sharedStrings.xml unpacks to 17 MiB, over the"
                                " 16 MiB limit for one part of a ledger: refused")


def test_too_many_zip_members(tmp_path: Path) -> None:
    extra = {f"xl/media/image{i}.png": b"" for i in range(1000)}
    path = h.write_xlsx(tmp_path / "members.xlsx", h.sheet(h.usual_rows()), extra=extra)
    assert refusal(path).startswith(f"{path}: the zip lists 1,005 members in ")


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    """33 MiB (sparse: no disk used) is refused from its size alone."""
    for name in ("big.xlsx", "big.csv"):
        path = tmp_path / name
        with path.open("wb") as f:
            f.truncate(33 * 1024 * 1024)
        assert "over the 32 MiB limit" in refusal(path)


def test_a_dtd_and_an_overlong_cell_are_refused(tmp_path: Path) -> None:
    laughs = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
              '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    dtd = h.write_xlsx(tmp_path / "dtd.xlsx", h.sheet(h.usual_rows(), head=laughs))
    assert refusal(dtd) == (f"{dtd}: sheet Sheet1: the workbook's XML declares a DTD, which no"
                            " spreadsheet writes: refused")
    long = h.write_xlsx(tmp_path / "long.xlsx", h.sheet(
        [h.row(1, h.HEADER), h.row(2, ("cam-1", "127.62.0.1", "球" * 40_000))]))
    assert refusal(long) == (f"{long}: sheet Sheet1: a cell in row 2 holds more than 32,767"
                             " characters (Excel's limit): refused")


def test_csv_rows_and_columns_are_capped(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("设备编号,IP地址,设备类型\n" + "cam,127.62.0.1,球机\n" * 100_000,
                    encoding="utf-8")
    assert refusal(rows) == f"{rows}: more than 100,000 rows: refused"
    wide = tmp_path / "wide.csv"
    wide.write_text("设备编号,IP地址,设备类型" + "," * 300 + "\n", encoding="utf-8")
    assert refusal(wide) == f"{wide}:R1: 303 columns, more than 256: refused"


def test_xls_and_disguised_xls_get_a_clear_message(tmp_path: Path) -> None:
    """openpyxl reads .xlsx only: an .xls (or one renamed .xlsx) is told to be saved as .xlsx."""
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    xls, renamed = tmp_path / "台账.xls", tmp_path / "台账.xlsx"
    xls.write_bytes(ole)
    renamed.write_bytes(ole)
    assert refusal(xls) == (f"{xls}: an Excel 97-2003 (.xls) file cannot be read: open it in"
                            " Excel or WPS and save it as an .xlsx workbook (Excel 工作簿), or as"
                            " CSV")
    assert refusal(renamed).startswith(f"{renamed}: this is an Excel 97-2003 (.xls) file or a"
                                       " workbook protected by a password, not an .xlsx")
    text = tmp_path / "notes.xlsx"
    text.write_text("设备编号,IP地址\n", encoding="utf-8")
    assert refusal(text) == f"{text}: not an .xlsx workbook (not a zip file)"


def test_shared_strings_runs_and_phonetic_guides(tmp_path: Path) -> None:
    """Excel's shared strings: rich-text runs joined, phonetic guides (rPh) left out."""
    strings = (f'<sst xmlns="{h.NS}"><si><t>设备编号</t></si><si><t>IP地址</t></si>'
               "<si><t>设备类型</t></si><si><r><t>球</t></r><r><rPr><b/></rPr><t>机</t></r>"
               "<rPh sb=\"0\" eb=\"1\"><t>qiu</t></rPh></si><si><t>cam_x0031_</t></si></sst>")
    cells = "".join(f'<c r="{c}1" t="s"><v>{i}</v></c>' for i, c in enumerate("ABC"))
    path = h.write_xlsx(tmp_path / "sst.xlsx", h.sheet([
        f'<row r="1">{cells}</row>',
        '<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" t="str"><f>A1</f><v>127.62.0.9</v>'
        '</c><c r="C2" t="s"><v>3</v></c></row>']), strings=strings)
    devices = read_ledger(path, "xingan").devices
    assert [(d["id"], d["address"], d["kind"]) for d in devices] == [
        ("cam1", "127.62.0.9", "camera")]


def test_the_command_refuses_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    path = h.merged_over_the_sheet(tmp_path / "merged.xlsx")
    done = subprocess.run([sys.executable, "-m", "netwatch", "inventory", "import", str(path),
                           "--county", "xingan", "--out", str(tmp_path / "out.csv")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "NETWATCH_INVENTORY": ""})
    assert done.returncode == 2
    assert "merged range A5:XFD1048576" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv").exists()
    assert zipfile.is_zipfile(path)
