"""The notice as a Word document (python-docx), laid out like the PDF so an office can edit it.

Same parts as the HTML (``render.document``): red 版头 and rule, title, body with
two-character indents, signature, 联系人, then a new landscape section holding the
attachment (its header row repeated on every page), the items' map on a page of its
own (a PNG: Word documents take no SVG, so the same SVG is drawn by cairosvg) and the
版记. Page numbers "— 1 —" sit at the foot, right on odd pages and left on even ones.
East Asian fonts are named the way Word looks them up (仿宋, 方正小标宋简体, 黑体); a
machine without them shows its own fallback.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx import Document as new_document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from netwatch.maps import svg_to_png
from netwatch.notices.record import NoticeRecord
from netwatch.notices.render import document
from netwatch.notices.stablezip import stable

RED = RGBColor(0xE6, 0x00, 0x12)
BODY_FONT, TITLE_FONT, HEI_FONT, SONG_FONT = "仿宋", "方正小标宋简体", "黑体", "宋体"
LATIN = "Times New Roman"
MAP_WIDTH_MM = 225  # the annex's landscape text width is 237 mm; the map is 3:2


def _run(p: Paragraph, text: str, size: float = 16, font: str = BODY_FONT,
         bold: bool = False, color: RGBColor | None = None) -> None:
    run = p.add_run(text)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.name = LATIN
    if color is not None:
        run.font.color.rgb = color
    fonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def _para(doc: object, text: str = "", align: WD_ALIGN_PARAGRAPH | None = None,
          indent: bool = False, **style: object) -> Paragraph:
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(28.9)
    if align is not None:
        p.alignment = align
    if indent:
        fmt.first_line_indent = Pt(32)  # two characters of 16 pt
    if text:
        _run(p, text, **style)  # type: ignore[arg-type]
    return p


def _border(p: Paragraph, side: str, size: int, color: str) -> None:
    """A rule under or over a paragraph (the red separator, the 版记's lines)."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", "1"), ("color", color)):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


def _page_number(p: Paragraph, align: WD_ALIGN_PARAGRAPH) -> None:
    """"— PAGE —" as a field Word fills in."""
    p.alignment = align
    _run(p, "— ", 14, SONG_FONT)
    run = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)
    run.font.size = Pt(14)
    _run(p, " —", 14, SONG_FONT)


def _footers(section: object) -> None:
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)  # type: ignore[attr-defined]
    _page_number(section.even_page_footer.paragraphs[0],  # type: ignore[attr-defined]
                 WD_ALIGN_PARAGRAPH.LEFT)


def _repeat_header(row: object) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def render_docx(record: NoticeRecord, lang: str = "zh") -> bytes:
    """The .docx bytes of the notice in ``lang`` (repeatable: see ``stablezip``)."""
    d = document(record, lang)
    doc = new_document()
    doc.settings.odd_and_even_pages_header_footer = True
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    _footers(section)
    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc, d.organ, center, size=26, font=TITLE_FONT, bold=True, color=RED)
    rule = _para(doc, d.number, center)
    _border(rule, "bottom", 18, "E60012")
    _para(doc)
    _para(doc, d.title, center, size=22, font=TITLE_FONT, bold=True)
    _para(doc, d.to)
    for text in d.paragraphs:
        _para(doc, text, indent=True)
    _para(doc, d.annex_note, indent=True)
    _para(doc)
    _para(doc, d.signature, right)
    _para(doc, d.date, right)
    if d.contact:
        _para(doc, d.contact, indent=True)
    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(297), Mm(210)
    annex.top_margin, annex.bottom_margin = Mm(28), Mm(26)
    annex.left_margin, annex.right_margin = Mm(30), Mm(30)
    _para(doc, d.annex_label, font=HEI_FONT)
    _para(doc, d.annex_title, center, size=18, font=TITLE_FONT, bold=True)
    for caption, rows in d.tables:
        if caption:
            _para(doc, caption, size=12, font=HEI_FONT)
        table = doc.add_table(rows=1, cols=len(d.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        head = table.rows[0]
        _repeat_header(head)
        for cell, text in zip(head.cells, d.headers, strict=True):
            _run(cell.paragraphs[0], text, 10.5, HEI_FONT)
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row.cells, strict=True):
                _run(cell.paragraphs[0], text, 10.5, BODY_FONT, bold=row.overdue)
    if d.map_svg:
        doc.add_page_break()
        picture = doc.add_paragraph()  # single spacing: a fixed line height clips pictures
        picture.alignment = center
        picture.add_run().add_picture(io.BytesIO(svg_to_png(d.map_svg)), width=Mm(MAP_WIDTH_MM))
    _para(doc)
    if d.cc:
        cc = _para(doc, d.cc, size=14)
        _border(cc, "top", 6, "000000")
    printed = _para(doc, d.printed, right, size=14)
    _border(printed, "top", 4, "000000")
    _border(printed, "bottom", 6, "000000")
    issued = datetime.fromisoformat(record.issued_at).astimezone(UTC).replace(tzinfo=None)
    props = doc.core_properties
    props.title, props.author, props.created = d.title, record.issuing_unit, issued
    props.modified, props.last_modified_by, props.revision = issued, record.issuing_unit, 1
    out = io.BytesIO()
    doc.save(out)
    return stable(out.getvalue(), issued)
