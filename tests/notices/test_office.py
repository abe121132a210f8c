"""Word and Excel renderings: opened with python-docx and openpyxl, as an office would."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import docx
import openpyxl
from docx.enum.section import WD_ORIENT

from netwatch.notices.docx_file import render_docx
from netwatch.notices.files import write_notice_files
from netwatch.notices.render import title
from netwatch.notices.xlsx_file import render_xlsx
from tests.notices.factory import item, record

HOSTILE = "=HYPERLINK(\"http://x\",\"y\")"


def long_record() -> object:
    items = tuple(item(n, name=f"摄像机{n}号", subject=f"cam-{n}", address=f"127.65.1.{n}")
                  for n in range(1, 31))
    return record(items=items + (item(31, name=HOSTILE, location="@SUM(A1)", subject="-1"),),
                  cc="示例市公安局指挥中心")


def test_docx_holds_number_title_items_and_the_layout() -> None:
    """Number, title, 主送, every item; red 版头; two-character indents; the attachment in a
    landscape section of its own with the header row repeated; page number fields."""
    r = long_record()
    d = docx.Document(io.BytesIO(render_docx(r)))  # type: ignore[arg-type]
    texts = [p.text for p in d.paragraphs]
    assert texts[:2] == ["示例市公安局科技信息化支队", "示公科信〔2026〕12号"]
    assert title(r) in texts and "东区公安分局：" in texts  # type: ignore[arg-type]
    organ = d.paragraphs[0].runs[0]
    assert organ.font.color.rgb is not None and str(organ.font.color.rgb) == "E60012"
    body = next(p for p in d.paragraphs if p.text.startswith("根据"))
    assert body.paragraph_format.first_line_indent.pt == 32
    assert "附件：问题清单" in texts and "（联系人：张三 0000-0000000）" in texts
    assert "抄送：示例市公安局指挥中心。" in texts
    assert len(d.sections) == 2 and d.sections[1].orientation == WD_ORIENT.LANDSCAPE
    new, carried = d.tables
    assert new.rows[0].cells[8].text == "监测依据"
    assert new.rows[0]._tr.trPr.xpath("./w:tblHeader")  # repeated on every page
    names = [row.cells[1].text for row in new.rows[1:]]
    assert names == [f"摄像机{n}号" for n in range(1, 31)] + [HOSTILE]
    assert "PAGE" in d.sections[0].footer._element.xml
    assert "PAGE" in d.sections[0].even_page_footer._element.xml


def test_xlsx_one_row_per_item_text_cells_frozen_header() -> None:
    """Every item (new and carried) with the attachment's columns plus address and item id;
    formula-looking text is quoted, never a formula; the header row frozen, widths set."""
    r = long_record()
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(r)))  # type: ignore[arg-type]
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:11] == ("序号", "点位/设备名称", "设备编号", "类型", "位置", "问题",
                            "首次发现时间", "持续时长", "监测依据", "整改时限", "整改结果")
    assert rows[0][11:] == ("设备地址", "条目编号", "本期/前期")
    assert len(rows) == 1 + 31 + 1  # 31 new, 1 carried
    assert rows[1][1] == "摄像机1号" and rows[1][11] == "127.65.1.1" and rows[1][12] == "1"
    hostile = rows[31]
    assert hostile[1] == "'" + HOSTILE and hostile[4] == "'@SUM(A1)" and hostile[2] == "'-1"
    assert rows[32][13] == "前期" and rows[32][12] == "9"
    assert all(c.data_type == "s" for row in sheet.iter_rows() for c in row if c.value)
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["I"].width == 40


def test_out_dir_gets_every_format_once(tmp_path: Path) -> None:
    """--out writes PDF, DOCX and XLSX beside the HTML, Markdown and JSON; writing the same
    notice again finds the same bytes (no conflict)."""
    r = replace(record(), carried=())
    first = write_notice_files(r, tmp_path, ("zh",))
    assert sorted(p.suffix for p in first) == [".docx", ".html", ".json", ".md", ".pdf",
                                               ".xlsx"]
    before = {p: p.read_bytes() for p in first}
    assert write_notice_files(r, tmp_path, ("zh",)) == first
    assert {p: p.read_bytes() for p in first} == before
