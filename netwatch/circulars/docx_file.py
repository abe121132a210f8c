"""The circular as a Word document (python-docx), laid out like the PDF so an office can edit it.

The same parts as the HTML (``render.document``) built of the notices' GB/T 9704 pieces
(``docx_parts``): red 版头 and rule, title, 主送, the opening, the sections with their
tables (header rows repeated on every page), signature, 联系人 and the 版记; page
numbers "— 1 —" at the foot. A demonstration circular carries its banner at the top
of the first page, under the title and in every page's header.
"""

from __future__ import annotations

from docx import Document as new_document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH

from netwatch.circulars.record import CircularRecord
from netwatch.circulars.render import Table, document
from netwatch.notices import docx_parts as parts

CENTER, RIGHT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT


def _banner(doc: object, text: str) -> None:
    p = parts.para(doc, text, CENTER, size=14, font=parts.HEI_FONT, color=parts.RED)
    for side in ("top", "bottom", "left", "right"):
        parts.border(p, side, 12, "E60012")


def _table(doc: object, t: Table) -> None:
    parts.para(doc, t.caption, CENTER, size=12, font=parts.HEI_FONT)
    table = doc.add_table(rows=1, cols=len(t.headers))  # type: ignore[attr-defined]
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    parts.repeat_header(head)
    for cell, text in zip(head.cells, t.headers, strict=True):
        cell.paragraphs[0].alignment = CENTER
        parts.run(cell.paragraphs[0], text, 10.5, parts.HEI_FONT)
    for row in t.rows:
        missed = "未达标" in row
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.paragraphs[0].alignment = CENTER
            parts.run(cell.paragraphs[0], text, 10.5, parts.BODY_FONT, bold=missed)


def render_docx(record: CircularRecord) -> bytes:
    """The .docx bytes of the circular (repeatable: dated at its issue time)."""
    d = document(record)
    doc = new_document()
    parts.a4_portrait(doc)
    if d.banner:
        section = doc.sections[0]
        for header in (section.header, section.even_page_header):
            p = header.paragraphs[0]
            p.alignment = CENTER
            parts.run(p, d.banner, 12, parts.HEI_FONT, color=parts.RED)
        _banner(doc, d.banner)
    parts.para(doc, d.organ, CENTER, size=26, font=parts.TITLE_FONT, bold=True, color=parts.RED)
    rule = parts.para(doc, d.number, CENTER)
    parts.border(rule, "bottom", 18, "E60012")
    parts.para(doc)
    parts.para(doc, d.title, CENTER, size=22, font=parts.TITLE_FONT, bold=True)
    if d.banner:
        _banner(doc, d.banner)
    parts.para(doc, d.to)
    parts.para(doc, d.opening, indent=True)
    for s in d.sections:
        parts.para(doc, s.heading, indent=True, font=parts.HEI_FONT)
        for text in s.paragraphs:
            parts.para(doc, text, indent=True)
        for t in s.tables:
            _table(doc, t)
    parts.para(doc)
    parts.para(doc, d.signature, RIGHT)
    parts.para(doc, d.date, RIGHT)
    if d.contact:
        parts.para(doc, d.contact, indent=True)
    parts.para(doc)
    if d.cc:
        cc = parts.para(doc, d.cc, size=14)
        parts.border(cc, "top", 6, "000000")
    printed = parts.para(doc, d.printed, RIGHT, size=14)
    parts.border(printed, "top", 4, "000000")
    parts.border(printed, "bottom", 6, "000000")
    title = f"【{d.banner}】{d.title}" if d.banner else d.title
    return parts.finish(doc, title, record.issuing_unit, record.issued_at)
