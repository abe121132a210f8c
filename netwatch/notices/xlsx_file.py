"""The notice's item list as an Excel workbook (openpyxl): what counties forward to contractors.

One row per item (this notice's, then those carried forward), with every column of
the attachment plus the device's address and the item id; the header row frozen,
column widths set, every cell text. Text that a spreadsheet would run as a
formula (a leading = + - @) is quoted exactly as the CSV exports quote it.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from netwatch.inventory import neutralise
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import document, item_cells
from netwatch.notices.stablezip import stable

EXTRA = {"zh": ("设备地址", "条目编号", "本期/前期"), "en": ("Address", "Item id", "Listed as")}
WIDTHS = (6, 22, 16, 12, 18, 24, 18, 10, 40, 14, 24, 16, 10, 10)


def render_xlsx(record: NoticeRecord, lang: str = "zh") -> bytes:
    """The .xlsx bytes of the item list in ``lang`` (repeatable: see ``stablezip``)."""
    zh = lang == "zh"
    d = document(record, lang)
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook has one sheet, a worksheet
    sheet.title = "问题清单" if zh else "Problem list"
    sheet.append(list(d.headers) + list(EXTRA["zh" if zh else "en"]))
    listed = ((it, "本期" if zh else "new") for it in record.items)
    carried = ((it, "前期" if zh else "carried") for it in record.carried)
    for it, listing in (*listed, *carried):
        row = [*item_cells(it, lang), it.address, str(it.item_id), listing]
        sheet.append([neutralise(str(c)) for c in row])
    for cells in sheet.iter_rows():
        for cell in cells:
            cell.data_type = "s"  # text, never a formula or a number Excel reformats
            cell.number_format = "@"
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for n, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(n)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    issued = datetime.fromisoformat(record.issued_at).astimezone(UTC).replace(tzinfo=None)
    book.properties.creator = record.issuing_unit
    book.properties.title = d.title
    book.properties.created = book.properties.modified = issued
    out = io.BytesIO()
    book.save(out)
    return stable(out.getvalue(), issued)
