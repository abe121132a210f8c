"""A small NoticeRecord factory for rendering tests."""

from __future__ import annotations

from dataclasses import replace

from netwatch.notices.record import Acknowledgement, ItemView, KindSummary, NoticeRecord


def item(row: int = 1, **kw: object) -> ItemView:
    """One open camera item unless overridden."""
    base = ItemView(
        item_id=row, row=row, subject_type="device", subject=f"cam-{row}", name=f"摄像机{row}",
        kind="camera", location="人民路口", problem="unreachable", severity="major",
        first_seen="2026-11-25T21:00:00+08:00", duration_seconds=2 * 86400 + 3 * 3600,
        deadline="2026-12-05", state="open", overdue=False, recurrence=0,
        evidence={"failed_checks": ["icmp"]},
    )
    return replace(base, **kw)


def record(**kw: object) -> NoticeRecord:
    """A notice with one new item and one overdue carried item."""
    base = NoticeRecord(
        number="示公科信〔2026〕12号", prefix="示公科信", year=2026, seq=12, city="示例市",
        issuing_unit="示例市公安局科技信息化支队", county="east", county_name="东区",
        receiving_unit="东区公安分局", issue_date="2026-11-28",
        issued_at="2026-11-28T09:00:00+08:00", timezone="Asia/Shanghai",
        period_start="2026-11-21", period_end="2026-11-27", deadline="2026-12-05",
        contact="张三 0000-0000000",
        summary=(KindSummary("camera", 100, 90, 0.9, 0.95, 3, 4),),
        items=(item(1), item(2, kind="switch", problem="uplink_down", suppressed_children=7)),
        carried=(item(1, item_id=9, overdue=True, acknowledgement=Acknowledgement(
            "已报修", "2026-11-20", "2026-11-15T10:00:00+08:00", "tok1")),),
    )
    return replace(base, **kw)
