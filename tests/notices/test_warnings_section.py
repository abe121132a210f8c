"""预警提示: a notice lists its county's early warnings at issue time, in every rendering, as
a short section of the body: no item, no deadline, nothing when there are none."""

from __future__ import annotations

import io
import subprocess
from datetime import date
from pathlib import Path

import docx

from netwatch.monitor import Raised
from netwatch.monitor.trends import Write, write_trends
from netwatch.notices.docx_file import render_docx
from netwatch.notices.issue import issue_notices
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import NoticeRecord, WarningView
from netwatch.notices.render import WARNINGS_SHOWN, render_html, render_markdown
from netwatch.store import Store
from netwatch.vocab import Warning
from tests.notices.city import at, city, fault
from tests.notices.factory import record

BOTH_ENGINES = True

LOSS = WarningView("cam-1", "cam-1 名称", "camera", Warning.LOSS_RISING,
                   "2026-11-27T08:10:00+08:00", {"baseline": 0.001, "recent": 0.05})
CLOCK = WarningView("cam-2", "cam-2 名称", "camera", Warning.CLOCK_DRIFTING,
                    "2026-11-26T20:00:00+08:00", {"seconds_per_day": 12.0, "offset": 3.5})
LOSS_LINE = ("（1）cam-1 名称（cam-1，视频监控）：丢包率较自身基线上升（基线0.1%，近期5.0%），"
             "自2026年11月27日8时10分起。")
HEADING = ("六、预警提示。以下2台设备运行指标呈异常趋势，尚未构成故障，不列入问题清单、"
           "不设整改时限，请关注并排查：")


def test_issuing_takes_the_county_s_warnings_and_no_item(store: Store) -> None:
    """east's warnings (as its active instance wrote them) go into east's notice only; the
    items and deadlines are the faults' alone."""
    fault(store, "site-1", at("2026-11-20"), kind="trunking_site")
    fault(store, "cam-8", at("2026-11-20"), county="west")
    write_trends(store, "east", "a", Write(warnings={
        ("cam-1", Warning.LOSS_RISING): ("camera", Raised(at("2026-11-22", 8), {
            "baseline": 0.001, "recent": 0.05})),
        ("sw-1", Warning.REBOOTS): ("switch", Raised(at("2026-11-22", 10), {"count": 4.0}))}))
    east, west = (o.record for o in issue_notices(store, city(), issue_date=date(2026, 11, 23),
                                                  now=at("2026-11-23")))
    assert east is not None and west is not None
    assert [(v.device, v.warning, v.since) for v in east.warnings or ()] == [
        ("cam-1", "loss_rising", "2026-11-22T08:00:00+08:00"),
        ("sw-1", "reboots", "2026-11-22T10:00:00+08:00")]
    assert [i.subject for i in east.items] == ["site-1"] and east.deadline == "2026-11-24"
    assert west.warnings == ()
    assert NoticeRecord.from_json(east.to_json()) == east
    body = render_markdown(east)
    assert "六、预警提示。以下2台设备" in body
    assert "（2）sw\\-1 名称（sw\\-1，交换机）：一天内多次重启（24小时内重启4次），" in body
    assert "预警" not in render_markdown(west)


def test_every_rendering_has_the_section_in_chinese(tmp_path: Path) -> None:
    r = record(warnings=(LOSS, CLOCK))
    html = render_html(r)
    for text in (HEADING, LOSS_LINE,
                 "（2）cam-2 名称（cam-2，视频监控）：设备时钟持续漂移（每天漂移+12.0秒，"
                 "当前偏差+3.5秒），自2026年11月26日20时00分起。"):
        assert f"<p>{text}</p>" in html
    assert html.index("五、逾期未整改") < html.index(HEADING) < html.index("附件：问题清单")
    paragraphs = [p.text for p in docx.Document(io.BytesIO(render_docx(r))).paragraphs]
    assert HEADING in paragraphs and LOSS_LINE in paragraphs
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(render_pdf(r))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "预警提示" in text and "丢包率较自身基线上升" in "".join(text.split())
    english = render_markdown(r, "en")
    assert "6\\. Early warnings: 2 devices show a worsening trend" in english
    assert "packet loss rising above its baseline \\(baseline 0\\.1%, recent 5\\.0%\\)" in english


def test_none_means_no_section_and_many_are_cut_short() -> None:
    assert "预警" not in render_html(record()) and "预警" not in render_html(record(warnings=()))
    many = tuple(LOSS for _ in range(WARNINGS_SHOWN + 3))
    body = render_markdown(record(warnings=many))
    assert f"（{WARNINGS_SHOWN}）" in body and f"（{WARNINGS_SHOWN + 1}）" not in body
    assert "另有3项预警，详见监测平台。" in body
