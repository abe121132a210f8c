"""The circular's tables as an Excel workbook (openpyxl): what offices sort and chart.

One sheet per ranking, in the circular's order, then one of the counties' items,
blind spots, declared outages and unwatched time. Figures are numbers (ratios with a
percent format, hours with one decimal), not text, so they sort and sum; where the
document prints a word instead (未监测, —, 达标) the cell holds that word. Each sheet
starts with its caption (a demonstration circular's banner above it), its header
row frozen. County names are quoted where a spreadsheet would run them as a formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from netwatch.circulars import words as w
from netwatch.circulars.record import CircularRecord
from netwatch.circulars.render import (
    DECLARED_HEADERS,
    ITEM_HEADERS,
    RANKING_HEADERS,
    document,
    ranked_rows,
    ranking_caption,
    ranking_name,
)
from netwatch.inventory import neutralise
from netwatch.notices import stable

PERCENT, HOURS = "0.00%", "0.0"
COUNTY_SHEET = "各县（区）整改及报备"
COUNTY_HEADERS = ITEM_HEADERS + DECLARED_HEADERS[1:]
_SHEET_UNSAFE = re.compile(r"[\[\]:*?/\\]")
Value = tuple[str | int | float, str | None]  # a cell's value and its number format


def _sheet(book: Workbook, name: str, banner: str, caption: str, headers: tuple[str, ...],
           rows: Sequence[Sequence[Value]], widths: tuple[int, ...]) -> None:
    """A sheet: banner, caption, header row (frozen), then rows of (value, number format)."""
    title = _SHEET_UNSAFE.sub("_", name)[:31]
    taken = set(book.sheetnames)
    n = 1
    while title in taken:
        n += 1
        title = f"{_SHEET_UNSAFE.sub('_', name)[:28]}_{n}"
    sheet = book.create_sheet(title)
    if banner:
        sheet.append([banner])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, color="E60012")
    sheet.append([caption])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.append(list(headers))
    head = sheet.max_row
    for cell in sheet[head]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for row in rows:
        sheet.append([value for value, _ in row])
        for cell, (_, fmt) in zip(sheet[sheet.max_row], row, strict=True):
            if fmt is not None:
                cell.number_format = fmt
    for i, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"A{head + 1}"


def render_xlsx(record: CircularRecord) -> bytes:
    """The .xlsx bytes of the circular's tables (repeatable: dated at its issue time)."""
    d = document(record)
    book = Workbook()
    first = book.active
    assert isinstance(first, Worksheet)  # a new workbook has one sheet, a worksheet
    book.remove(first)
    for n, r in enumerate(record.rankings, 1):
        target: Value = (w.NONE, None) if r.target is None else (r.target, PERCENT)
        rows: list[list[Value]] = [
            [(w.NONE if x.rank is None else x.rank, None), (neutralise(x.county_name), None),
             (x.devices, None), (w.UNMEASURED, None) if x.ratio is None else (x.ratio, PERCENT),
             target, (w.verdict(x.meets_target), None), (x.monitored_hours, HOURS),
             (x.declared_hours, HOURS)] for x in ranked_rows(r)]
        _sheet(book, ranking_name(r), d.banner, ranking_caption(n, r), RANKING_HEADERS, rows,
               (8, 14, 10, 12, 12, 10, 20, 20))
    county_rows: list[list[Value]] = [
        [(neutralise(c.county_name), None), *((v, None) for v in (
            c.items_new, c.items_fixed, c.items_open, c.items_overdue, c.items_recurring,
            c.blind_spots_found, c.blind_spots_fixed, c.declared_count)),
         (c.declared_hours, HOURS), (c.unwatched_hours, HOURS)] for c in record.counties]
    _sheet(book, COUNTY_SHEET, d.banner,
           f"{w.month(record.month)}各县（区）整改、盲区及停机报备情况", COUNTY_HEADERS,
           county_rows, (14, *(12,) * 8, 18, 18))
    issued = datetime.fromisoformat(record.issued_at).astimezone(UTC).replace(tzinfo=None)
    book.properties.creator = record.issuing_unit
    book.properties.title = f"【{d.banner}】{d.title}" if d.banner else d.title
    book.properties.created = book.properties.modified = issued
    out = io.BytesIO()
    book.save(out)
    return stable(out.getvalue(), issued)
