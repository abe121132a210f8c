"""The circular's HTML: the parts in GB/T 9704 order, the record's figures exactly, text escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

from netwatch.circulars import Mention, Ranking, document, render_html, title
from netwatch.circulars.render import numeral
from tests.circulars.factory import RANKINGS, record

FIRST_TABLE = [  # 表1 as the bureau reads it: ties share 2nd, the unwatched county last
    ("1", "东区", "420", "99.31%", "95.00%", "达标", "302400.0", "120.0"),
    ("2", "西区", "380", "97.85%", "95.00%", "达标", "273600.0", "0.0"),
    ("2", "北区", "205", "97.85%", "95.00%", "达标", "147600.0", "36.5"),
    ("4", "临河县", "160", "96.01%", "95.00%", "达标", "115200.0", "0.0"),
    ("5", "南区", "310", "91.24%", "95.00%", "未达标", "223200.0", "480.0"),
    ("—", "山阳县", "90", "未监测", "95.00%", "—", "0.0", "0.0"),
]


def text(html: str) -> str:
    """The page's text (not the head), whitespace removed."""
    body = re.sub(r"<head>.*?</head>", "", html, flags=re.S)
    return "".join(unescape(re.sub(r"<[^>]+>", "", body)).split())


def tables(html: str) -> list[tuple[str, list[tuple[str, ...]]]]:
    """Each table's caption and body rows, as the template wrote them."""
    out = []
    for caption, body in re.findall(r'<p class="caption">(.*?)</p>.*?<tbody>(.*?)</tbody>', html,
                                    flags=re.S):
        rows = [tuple(unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr))
                for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)]
        out.append((unescape(caption), rows))
    return out


def test_the_parts_come_in_gbt9704_order() -> None:
    html = render_html(record())
    flat = text(html)
    parts = ["示例市公安局科技信息化支队", "示公科信通〔2026〕11号",
             "关于2026年11月全市公安视频监控及通信网络运行情况的通报",
             "东区公安分局、西区公安分局、北区公安分局、南区公安分局、临河县公安局、山阳县公安局：",
             "为全面掌握", "现将2026年11月份全市公安视频监控及通信网络运行情况通报如下：",
             "一、总体情况", "二、排名情况", "表1在线率排名（视频监控）",
             "表7时钟准确率排名（视频监控）",
             "三、整改及盲区情况", "表8各县（区）整改及盲区情况", "四、停机报备情况",
             "五、通报表扬", "六、通报批评", "七、有关要求", "八、评定规则",
             "（一）通报表扬：各类设备在线率", "（二）通报批评：任一类设备",
             "示例市公安局科技信息化支队2026年12月1日", "（联系人：张三0000-0000000）",
             "抄送：示例市公安局指挥中心，各县（区）公安局分管局领导。",
             "示例市公安局科技信息化支队2026年12月1日印发"]
    at = 0
    for part in parts:  # each after the one before
        found = flat.find(part, at)
        assert found >= 0, (part, flat[at:at + 60])
        at = found + len(part)
    assert "演示数据" not in html


def test_each_ranking_is_a_table_of_the_records_figures_in_rank_order() -> None:
    found = tables(render_html(record()))
    assert found[0] == ("表1\u3000在线率排名（视频监控）", FIRST_TABLE)
    assert [c for c, _ in found[1:7]] == [
        "表2\u3000在线率排名（重点区域视频监控）", "表3\u3000在线率排名（数字集群基站）",
        "表4\u3000在线率排名（视频会议终端）", "表5\u3000在线率排名（交换机）",
        "表6\u3000视频可用率排名（视频监控）", "表7\u3000时钟准确率排名（视频监控）"]
    for ranking, (_, rows) in zip(RANKINGS, found, strict=False):
        assert [r[1] for r in rows] == [x.county_name for x in ranking.rows]
        assert [r[3] for r in rows] == [
            "未监测" if x.ratio is None else f"{round(x.ratio * 100, 2):.2f}%"
            for x in ranking.rows]
        assert rows[-1][0] == "—" and rows[-1][3] == "未监测"


def test_unmeasured_rows_go_last_whatever_the_records_order() -> None:
    first = RANKINGS[0]
    shuffled = replace(first, rows=(first.rows[-1], *first.rows[:-1]))
    found = tables(render_html(record(rankings=(shuffled,))))
    assert found[0][1] == FIRST_TABLE


def test_summary_counts_the_targets_met_and_the_county_figures_are_exact() -> None:
    html = render_html(record())
    flat = text(html)
    assert ("（一）在线率。视频监控（目标值95.00%）达标4个、未达标1个、未监测1个；"
            "重点区域视频监控（目标值98.00%）达标3个、未达标2个、未监测1个；") in flat
    assert "（二）视频可用率。视频监控（目标值90.00%）达标3个、未达标2个、未监测1个。" in flat
    assert "本月全市新增整改事项53项，整改销号37项；月末尚未整改25项，其中逾期7项" in flat
    assert "本月各县（区）共报备停机6次，累计26.5小时" in flat
    items, declared = tables(html)[7:9]
    assert items[1][3] == ("南区", "21", "8", "15", "6", "3", "4", "1")
    assert declared[1][5] == ("山阳县", "0", "0.0", "720.0")


def test_praise_and_criticism_with_their_reasons_or_a_sentence_saying_none() -> None:
    flat = text(render_html(record()))
    assert ("对以下1个县（区）予以通报表扬：（一）东区：各项指标均达到目标值；"
            "整改事项全部按期完成。") in flat
    assert "（一）南区：视频监控在线率91.24%，低于目标值95.00%；逾期未整改事项6项。" in flat
    none = text(render_html(record(praised=(), criticised=())))
    assert "本月无符合通报表扬条件的县（区）。" in none
    assert "本月无符合通报批评条件的县（区）。" in none
    assert "予以通报批评：" not in none


def test_a_demonstration_says_so_at_the_top_under_the_title_and_on_every_page() -> None:
    html = render_html(record(demonstration=True))
    assert html.count("演示数据（非正式文件）") == 4  # <title>, top, under the title, @page
    assert re.search(r"@page \{ @top-center \{ content: \"演示数据（非正式文件）\"", html)
    flat = text(html)
    assert flat.index("演示数据") < flat.index("示公科信通")  # above the 版头
    assert document(record(demonstration=True)).banner == "演示数据（非正式文件）"
    assert document(record()).banner == ""


def test_the_title_names_the_month_reported_on_not_the_numbering_year() -> None:
    december = record(month="2026-12", year=2027, seq=1, number="示公科信通〔2027〕1号",
                      period_start="2026-12-01T00:00:00+08:00",
                      period_end="2027-01-01T00:00:00+08:00", issue_date="2027-01-04")
    assert title(december) == "关于2026年12月全市公安视频监控及通信网络运行情况的通报"
    flat = text(render_html(december))
    assert "2026年12月1日至2026年12月31日的监测数据" in flat and "2027年1月4日印发" in flat


def test_untrusted_text_is_escaped() -> None:
    evil = "<script>alert(1)</script>"
    first = RANKINGS[0]
    rows = (replace(first.rows[0], county_name=evil), *first.rows[1:])
    html = render_html(record(rankings=(Ranking(first.measure, first.kind, first.target, rows),),
                              praised=(Mention("east", evil, ("<b>好</b>",)),),
                              contact="<img src=x onerror=alert(1)>"))
    assert "<script>" not in html and "<img" not in html and "<b>好" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert tables(html)[0][1][0][1] == evil


def test_numerals() -> None:
    assert [numeral(n) for n in (1, 9, 10, 11, 19, 20, 23)] == [
        "一", "九", "十", "十一", "十九", "二十", "二十三"]
