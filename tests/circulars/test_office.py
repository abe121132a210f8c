"""Word and Excel renderings of the circular, opened with python-docx and openpyxl."""

from __future__ import annotations

import io
from dataclasses import replace

import docx
import openpyxl
import pytest

from netwatch.circulars import Ranking, render_docx, render_xlsx, title
from tests.circulars.factory import FIGURES, RANKINGS, record
from tests.circulars.test_render import FIRST_TABLE

HOSTILE = "=HYPERLINK(\"http://x\",\"y\")"
SHEETS = ["在线率排名（视频监控）", "在线率排名（重点区域视频监控）", "在线率排名（数字集群基站）",
          "在线率排名（视频会议终端）", "在线率排名（交换机）", "视频可用率排名（视频监控）",
          "时钟准确率排名（视频监控）", "各县（区）整改及报备"]


def test_docx_holds_the_parts_and_one_table_per_ranking_then_the_county_tables() -> None:
    r = record()
    d = docx.Document(io.BytesIO(render_docx(r)))
    texts = [p.text for p in d.paragraphs]
    assert texts[:2] == ["示例市公安局科技信息化支队", "示公科信通〔2026〕11号"]
    assert str(d.paragraphs[0].runs[0].font.color.rgb) == "E60012"
    assert title(r) in texts and "一、总体情况" in texts and "八、评定规则" in texts
    praised = texts.index("（一）东区：各项指标均达到目标值；整改事项全部按期完成。")
    named = next(i for i, t in enumerate(texts) if t.startswith("（一）南区"))
    assert texts.index("五、通报表扬") < praised < texts.index("六、通报批评") < named
    opening = next(p for p in d.paragraphs if p.text.startswith("为全面掌握"))
    assert opening.paragraph_format.first_line_indent.pt == 32
    assert "（联系人：张三 0000-0000000）" in texts
    assert texts[-1] == "示例市公安局科技信息化支队　　2026年12月1日印发"
    assert len(d.tables) == len(RANKINGS) + 2
    first = [tuple(c.text for c in row.cells) for row in d.tables[0].rows]
    assert first[0][3] == "指标值" and first[1:] == FIRST_TABLE
    assert d.tables[0].rows[0]._tr.trPr.xpath("./w:tblHeader")  # repeated on every page
    assert [c.text for c in d.tables[-2].rows[4].cells] == ["南区", "21", "8", "15", "6", "3",
                                                            "4", "1"]
    assert "PAGE" in d.sections[0].footer._element.xml
    assert "演示数据" not in "".join(texts) + d.sections[0].header._element.xml


def test_docx_of_a_demonstration_says_so_on_top_under_the_title_and_in_the_header() -> None:
    d = docx.Document(io.BytesIO(render_docx(record(demonstration=True))))
    texts = [p.text for p in d.paragraphs]
    assert texts[0] == "演示数据（非正式文件）"
    assert texts[texts.index(title(record())) + 1] == "演示数据（非正式文件）"
    for header in (d.sections[0].header, d.sections[0].even_page_header):
        assert header.paragraphs[0].text == "演示数据（非正式文件）"
    assert d.core_properties.title.startswith("【演示数据（非正式文件）】")


def test_xlsx_one_sheet_per_ranking_numbers_as_numbers() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(record())))
    assert book.sheetnames == SHEETS
    for sheet, ranking in zip(book.worksheets, RANKINGS, strict=False):
        rows = list(sheet.iter_rows(min_row=3))
        assert sheet.cell(1, 1).value.startswith("表") and sheet.freeze_panes == "A3"
        assert [c.value for c in sheet[2]][3] == "指标值"
        by_county = {x.county_name: x for x in ranking.rows}
        for cells in rows:
            x = by_county[cells[1].value]
            ratio, target = cells[3], cells[4]
            if x.ratio is None:
                assert ratio.value == "未监测" and cells[0].value == "—"
            else:
                assert isinstance(ratio.value, int | float) and ratio.value == x.ratio
                assert ratio.number_format == "0.00%" and cells[0].value == x.rank
            assert target.value == ranking.target and target.number_format == "0.00%"
            assert cells[2].value == x.devices
            assert cells[6].value == x.monitored_hours and cells[6].number_format == "0.0"
            assert cells[7].value == x.declared_hours
        assert [c[1].value for c in rows] == [x.county_name for x in ranking.rows]
    county = book["各县（区）整改及报备"]
    values = [tuple(c.value for c in row) for row in county.iter_rows(min_row=3)]
    assert values == [(f.county_name, f.items_new, f.items_fixed, f.items_open, f.items_overdue,
                       f.items_recurring, f.blind_spots_found, f.blind_spots_fixed,
                       f.declared_count, f.declared_hours, f.unwatched_hours) for f in FIGURES]


def test_xlsx_of_a_demonstration_has_the_note_on_every_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(record(demonstration=True))))
    assert len(book.worksheets) == len(SHEETS)
    for sheet in book.worksheets:
        assert sheet.cell(1, 1).value == "演示数据（非正式文件）"
        assert sheet.freeze_panes == "A4"
    plain = openpyxl.load_workbook(io.BytesIO(render_xlsx(record())))
    assert all("演示数据" not in str(c.value) for s in plain.worksheets
               for row in s.iter_rows() for c in row)


def test_xlsx_quotes_formula_looking_names_and_a_missing_target_is_a_dash() -> None:
    first = RANKINGS[0]
    rows = (replace(first.rows[0], county_name=HOSTILE), *first.rows[1:])
    r = record(rankings=(Ranking("online", "camera", None, rows),))
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(r))).worksheets[0]
    assert sheet.cell(3, 2).value == "'" + HOSTILE and sheet.cell(3, 2).data_type == "s"
    assert sheet.cell(3, 5).value == "—"


@pytest.mark.parametrize("render", [render_docx, render_xlsx])
def test_same_record_same_bytes(render: object) -> None:
    r = record(demonstration=True)
    assert render(r) == render(r)  # type: ignore[operator]
    assert render(r) != render(record())  # type: ignore[operator]
