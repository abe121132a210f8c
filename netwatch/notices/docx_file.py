"""The notice as a Word document (python-docx), laid out like the PDF so an office can edit it.

Same parts as the HTML (``render.document``): red 版头 and rule, title, body with
two-character indents, signature, 联系人, then a new landscape section holding the
attachment (its header row repeated on every page), the items' map on a page of its
own (a PNG: Word documents take no SVG, so the same SVG is drawn by cairosvg) and the
版记. Page numbers "— 1 —" sit at the foot, right on odd pages and left on even ones.
East Asian fonts are named the way Word looks them up (仿宋, 方正小标宋简体, 黑体); a
machine without them shows its own fallback. The pieces are ``docx_parts``.
"""

from __future__ import annotations

import io

from docx import Document as new_document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Mm

from netwatch.maps import svg_to_png
from netwatch.notices.docx_parts import (
    BODY_FONT,
    HEI_FONT,
    RED,
    TITLE_FONT,
    a4_portrait,
    border,
    finish,
    para,
    repeat_header,
    run,
)
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import document

MAP_WIDTH_MM = 225  # the annex's landscape text width is 237 mm; the map is 3:2


def render_docx(record: NoticeRecord, lang: str = "zh") -> bytes:
    """The .docx bytes of the notice in ``lang`` (repeatable: see ``stablezip``)."""
    d = document(record, lang)
    doc = new_document()
    a4_portrait(doc)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    para(doc, d.organ, center, size=26, font=TITLE_FONT, bold=True, color=RED)
    rule = para(doc, d.number, center)
    border(rule, "bottom", 18, "E60012")
    para(doc)
    para(doc, d.title, center, size=22, font=TITLE_FONT, bold=True)
    para(doc, d.to)
    for text in d.paragraphs:
        para(doc, text, indent=True)
    para(doc, d.annex_note, indent=True)
    para(doc)
    para(doc, d.signature, right)
    para(doc, d.date, right)
    if d.contact:
        para(doc, d.contact, indent=True)
    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(297), Mm(210)
    annex.top_margin, annex.bottom_margin = Mm(28), Mm(26)
    annex.left_margin, annex.right_margin = Mm(30), Mm(30)
    para(doc, d.annex_label, font=HEI_FONT)
    para(doc, d.annex_title, center, size=18, font=TITLE_FONT, bold=True)
    for caption, rows in d.tables:
        if caption:
            para(doc, caption, size=12, font=HEI_FONT)
        table = doc.add_table(rows=1, cols=len(d.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        head = table.rows[0]
        repeat_header(head)
        for cell, text in zip(head.cells, d.headers, strict=True):
            run(cell.paragraphs[0], text, 10.5, HEI_FONT)
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row.cells, strict=True):
                run(cell.paragraphs[0], text, 10.5, BODY_FONT, bold=row.overdue)
    if d.map_svg:
        doc.add_page_break()
        picture = doc.add_paragraph()  # single spacing: a fixed line height clips pictures
        picture.alignment = center
        picture.add_run().add_picture(io.BytesIO(svg_to_png(d.map_svg)), width=Mm(MAP_WIDTH_MM))
    para(doc)
    if d.cc:
        cc = para(doc, d.cc, size=14)
        border(cc, "top", 6, "000000")
    printed = para(doc, d.printed, right, size=14)
    border(printed, "top", 4, "000000")
    border(printed, "bottom", 6, "000000")
    return finish(doc, d.title, record.issuing_unit, record.issued_at)
