"""Rendering a notice record as HTML and Markdown."""

from __future__ import annotations

from netwatch.notices import words
from netwatch.notices.render import render_html, render_markdown, title
from tests.notices.factory import item, record


def test_title_names_problems_without_book_marks() -> None:
    """The title follows {unit}关于{county}{事由}问题限期整改的通知 with no 《》."""
    t = title(record())
    assert t == ("示例市公安局科技信息化支队关于东区"
                 "视频监控设备离线、交换机上行链路中断问题限期整改的通知")
    assert "《" not in t


def test_html_has_number_colon_dates_durations_and_row_order() -> None:
    """Number, full-width colon, Chinese dates and durations, body and rows in order."""
    html = render_html(record())
    assert "示公科信〔2026〕12号" in html
    assert "东区公安分局：" in html
    assert "2026年11月28日" in html and "2天3小时" in html
    assert "导致7台设备离线" in html and "【逾期】" in html
    order = ["监测数据", "发现问题", "整改要求", "整改时限", "书面反馈", "逾期未整改",
             "附件：问题清单", "<h2>前期未整改问题"]
    pos = [html.index(s) for s in order]
    assert pos == sorted(pos)
    assert html.index("摄像机1") < html.index("摄像机2")
    assert "@page" in html and "Noto Serif CJK SC" in html and "<script" not in html


def test_hostile_names_escaped() -> None:
    """Script tags, pipes, backticks and newlines in names cannot break HTML or Markdown."""
    bad = "<script>x</script>|`a`\n# [l](u)"
    r = record(items=(item(1, name=bad, location=bad),), carried=())
    html = render_html(r)
    assert "<script>" not in html and "&lt;script&gt;" in html
    md = render_markdown(r)
    row = next(line for line in md.splitlines() if line.startswith("| 1 "))
    assert row.count(" | ") == 10  # 11 columns: the pipes in the name are escaped
    assert "\\|" in row and "\\`" in row and "\\<script\\>" in row
    assert md.count("\n# ") == 1  # only the title is a heading


def test_english_is_the_same_record() -> None:
    """English output carries the same number, figures and items."""
    html = render_html(record(), "en")
    assert "示公科信〔2026〕12号" in html and "2 d 3 h" in html and "OVERDUE" in html
    assert "rank 3 of 4" in html and "took down 7 devices" in html


def test_words() -> None:
    """Durations and dates in Chinese and English."""
    assert words.duration(3600 * 27, "zh") == "1天3小时"
    assert words.duration(600, "en") == "10 min"
    assert words.date("2026-01-05", "zh") == "2026年1月5日"
