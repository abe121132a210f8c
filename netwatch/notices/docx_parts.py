"""The GB/T 9704 pieces of a Word document (python-docx), shared by every document netwatch
issues (the notices' ``docx_file``, the circulars'): runs with the East Asian font named
the way Word looks it up, paragraphs on the 28.9 pt line grid with two-character indents,
rules, "— PAGE —" footers, repeated table headers, the A4 page, and repeatable bytes.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from netwatch.notices.stablezip import stable

RED = RGBColor(0xE6, 0x00, 0x12)
BODY_FONT, TITLE_FONT, HEI_FONT, SONG_FONT = "仿宋", "方正小标宋简体", "黑体", "宋体"
LATIN = "Times New Roman"


def run(p: Paragraph, text: str, size: float = 16, font: str = BODY_FONT,
        bold: bool = False, color: RGBColor | None = None) -> None:
    """Text in the paragraph, Latin in Times New Roman, Chinese in ``font``."""
    r = p.add_run(text)
    r.font.size = Pt(size)
    r.font.bold = bold
    r.font.name = LATIN
    if color is not None:
        r.font.color.rgb = color
    fonts = r._element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), font)


def para(doc: object, text: str = "", align: WD_ALIGN_PARAGRAPH | None = None,
         indent: bool = False, **style: object) -> Paragraph:
    """A paragraph on the 28.9 pt line grid (``indent``: two characters of 16 pt)."""
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(28.9)
    if align is not None:
        p.alignment = align
    if indent:
        fmt.first_line_indent = Pt(32)
    if text:
        run(p, text, **style)  # type: ignore[arg-type]
    return p


def border(p: Paragraph, side: str, size: int, color: str) -> None:
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
    run(p, "— ", 14, SONG_FONT)
    r = p.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        r._r.append(el)
    r.font.size = Pt(14)
    run(p, " —", 14, SONG_FONT)


def footers(section: object) -> None:
    """Page numbers at the foot: right on odd pages, left on even ones."""
    _page_number(section.footer.paragraphs[0], WD_ALIGN_PARAGRAPH.RIGHT)  # type: ignore[attr-defined]
    _page_number(section.even_page_footer.paragraphs[0],  # type: ignore[attr-defined]
                 WD_ALIGN_PARAGRAPH.LEFT)


def a4_portrait(doc: object) -> None:
    """The first section: A4, GB/T 9704 margins, odd and even footers with page numbers."""
    doc.settings.odd_and_even_pages_header_footer = True  # type: ignore[attr-defined]
    section = doc.sections[0]  # type: ignore[attr-defined]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    footers(section)


def repeat_header(row: object) -> None:
    """The table row repeats at the top of every page the table runs onto."""
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    trpr.append(flag)


def finish(doc: object, title: str, author: str, issued_at: str) -> bytes:
    """The .docx bytes, dated at the issue time (ISO) so the same document gives the same
    bytes (``stablezip``)."""
    issued = datetime.fromisoformat(issued_at).astimezone(UTC).replace(tzinfo=None)
    props = doc.core_properties  # type: ignore[attr-defined]
    props.title, props.author, props.created = title, author, issued
    props.modified, props.last_modified_by, props.revision = issued, author, 1
    out = io.BytesIO()
    doc.save(out)  # type: ignore[attr-defined]
    return stable(out.getvalue(), issued)
