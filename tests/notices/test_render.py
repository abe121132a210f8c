"""Rendering a notice record as HTML and Markdown."""

from __future__ import annotations

from netwatch.inventory import KINDS, TECHNOLOGIES
from netwatch.monitor import FAULT_KINDS
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
             "附件：问题清单", "<h3>前期未整改问题"]
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


def test_every_code_has_words_in_both_languages() -> None:
    """No fault kind, finding, device kind or technology reaches a notice as a raw code."""
    for table, codes in ((words.PROBLEMS, (*FAULT_KINDS, "open_stream", "rebooted",
                                           "blind_spot")),
                         (words.KINDS, (*KINDS, *TECHNOLOGIES, "camera_key_area"))):
        for code in codes:
            assert code in table and words.word(table, code, "zh") != code, code


def test_long_titles_name_two_problems_and_evidence_in_words() -> None:
    """Three kinds of problem: the title names two and 等; a degraded link shows its figures;
    a blind spot caused by a site names the site, not a raw reference."""
    r = record(items=(
        item(1, kind="vc_endpoint", problem="degraded_link",
             evidence={"failed_checks": [], "detail": "RTT 351 ms > 300 ms"}),
        item(2, kind="trunking_site", problem="uplink_slow"),
        item(3, subject_type="point", kind="pdt", problem="blind_spot",
             refers_to="device:ts-1")), carried=())
    assert title(r) == ("示例市公安局科技信息化支队关于东区视频会议终端网络链路质量不达标、"
                        "数字集群基站上行链路速率低于千兆等问题限期整改的通知")
    assert title(r, "en").endswith("and other problems within a time limit")
    md = render_markdown(r)
    assert "时延 351 ms（应不高于 300 ms）" in md and "RTT" not in md
    assert "服务基站ts\\-1故障" in md or "服务基站ts-1故障" in md
    assert "device:" not in md and "_" not in md  # no raw code (they have underscores)


def test_title_groups_kinds_that_share_a_problem() -> None:
    """Cameras and a switch offline: one phrase naming both kinds; a new fault lasts
    不足1分钟 rather than 0分钟."""
    r = record(items=(item(1), item(2, kind="switch"), item(3, duration_seconds=20)),
               carried=())
    assert title(r) == ("示例市公安局科技信息化支队关于东区"
                        "视频监控、交换机设备离线问题限期整改的通知")
    assert "device offline (video camera, switch)" in title(r, "en")
    assert "不足1分钟" in render_html(r) and "under 1 min" in render_html(r, "en")


def test_blind_spot_basis_and_staggered_deadlines() -> None:
    """A blind spot's basis gives the readings' median against the limit and the cause; when
    items fall due on different days the body names the first and the last."""
    r = record(items=(
        item(1, deadline="2026-11-30"),
        item(2, subject_type="point", kind="pdt", problem="blind_spot", deadline="2026-12-28",
             evidence={"median_dbm": -114.0, "readings": 3, "threshold_dbm": -108.0,
                       "cause": "uplink_down", "site": "ts-1"}),
        item(3, subject_type="point", kind="broadband", problem="blind_spot",
             deadline="2026-12-28", evidence={"median_dbm": None, "readings": 4,
                                              "threshold_dbm": -110.0,
                                              "cause": "coverage_hole", "site": None})),
        carried=(), deadline="2026-12-28")
    html = render_html(r)
    assert ("3次测试信号中位数-114.0 dBm，低于盲区门限-108.0 dBm；"
            "原因：服务基站传输中断（ts-1）") in html
    assert "4次测试均无信号；原因：覆盖盲区（需新建或优化基站）" in html
    assert "最早一项须于2026年11月30日前完成，全部问题须于2026年12月28日前完成" in html
    english = render_html(r, "en")
    assert "median -114.0 dBm of 3 readings, under the -108.0 dBm limit" in english
    assert "the first is due by 2026-11-30, all by 2026-12-28" in english


def test_no_rates_when_nothing_was_monitored_in_the_period() -> None:
    """Without summary figures the findings paragraph ends after the counts, cleanly."""
    r = record(summary=())
    assert "前期未整改问题1项。</p>" in render_html(r) and "。。" not in render_html(r)
    assert "1 carried forward.</p>" in render_html(r, "en")
