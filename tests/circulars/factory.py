"""A realistic CircularRecord for the renderings' tests: six counties, seven rankings."""

from __future__ import annotations

from dataclasses import replace

from netwatch.circulars import CircularRecord, CountyFigures, Mention, Ranking, RankRow, Recipient

COUNTIES = (("east", "东区"), ("west", "西区"), ("north", "北区"), ("south", "南区"),
            ("linhe", "临河县"), ("shanyang", "山阳县"))
NAMES = dict(COUNTIES)


def row(county: str, rank: int | None, devices: int, ratio: float | None, target: float | None,
        monitored: float, declared: float = 0.0) -> RankRow:
    meets = None if ratio is None or target is None else ratio >= target
    return RankRow(county, NAMES[county], rank, devices, ratio, meets, monitored, declared)


def ranking(measure: str, kind: str, target: float | None,
            lines: tuple[tuple[str, int | None, int, float | None, float, float], ...]
            ) -> Ranking:
    return Ranking(measure, kind, target, tuple(row(c, r, n, x, target, m, d)
                                                for c, r, n, x, m, d in lines))


RANKINGS = (
    # camera online: west and north tie for 2nd; shanyang has cameras nobody watched
    ranking("online", "camera", 0.95, (
        ("east", 1, 420, 0.99312, 302_400.0, 120.0), ("west", 2, 380, 0.97851, 273_600.0, 0.0),
        ("north", 2, 205, 0.97851, 147_600.0, 36.5), ("linhe", 4, 160, 0.96012, 115_200.0, 0.0),
        ("south", 5, 310, 0.91237, 223_200.0, 480.0), ("shanyang", None, 90, None, 0.0, 0.0))),
    ranking("online", "camera_key_area", 0.98, (
        ("east", 1, 60, 1.0, 43_200.0, 0.0), ("north", 2, 25, 0.98804, 18_000.0, 0.0),
        ("west", 3, 48, 0.98113, 34_560.0, 0.0), ("linhe", 4, 20, 0.97405, 14_400.0, 0.0),
        ("south", 5, 40, 0.93318, 28_800.0, 24.0), ("shanyang", None, 12, None, 0.0, 0.0))),
    ranking("online", "trunking_site", 0.99, (
        ("linhe", 1, 6, 0.99954, 4_320.0, 0.0), ("east", 2, 12, 0.99721, 8_640.0, 12.0),
        ("west", 3, 10, 0.99102, 7_200.0, 0.0), ("north", 4, 8, 0.98455, 5_760.0, 0.0),
        ("south", 5, 9, 0.95006, 6_480.0, 72.0), ("shanyang", None, 4, None, 0.0, 0.0))),
    ranking("online", "vc_endpoint", 0.97, (
        ("west", 1, 14, 0.99866, 10_080.0, 0.0), ("east", 2, 20, 0.99012, 14_400.0, 0.0),
        ("south", 3, 12, 0.97777, 8_640.0, 0.0), ("linhe", 4, 8, 0.96875, 5_760.0, 0.0),
        ("north", 5, 10, 0.94210, 7_200.0, 0.0), ("shanyang", None, 5, None, 0.0, 0.0))),
    ranking("online", "switch", 0.99, (
        ("east", 1, 50, 0.99988, 36_000.0, 0.0), ("north", 2, 22, 0.99701, 15_840.0, 0.0),
        ("west", 3, 41, 0.99344, 29_520.0, 0.0), ("south", 4, 37, 0.98765, 26_640.0, 8.0),
        ("linhe", 5, 18, 0.98001, 12_960.0, 0.0), ("shanyang", None, 9, None, 0.0, 0.0))),
    ranking("video", "camera", 0.90, (
        ("east", 1, 420, 0.97345, 302_400.0, 120.0), ("linhe", 2, 160, 0.95551, 115_200.0, 0.0),
        ("west", 3, 380, 0.93004, 273_600.0, 0.0), ("north", 4, 205, 0.88812, 147_600.0, 36.5),
        ("south", 5, 310, 0.82501, 223_200.0, 480.0), ("shanyang", None, 90, None, 0.0, 0.0))),
    ranking("clock", "camera", 0.95, (
        ("north", 1, 205, 0.99511, 147_600.0, 36.5), ("east", 2, 420, 0.98005, 302_400.0, 120.0),
        ("west", 2, 380, 0.98005, 273_600.0, 0.0), ("linhe", 4, 160, 0.94444, 115_200.0, 0.0),
        ("south", 5, 310, 0.90113, 223_200.0, 480.0), ("shanyang", None, 90, None, 0.0, 0.0))),
)

FIGURES = (
    CountyFigures("east", "东区", 12, 11, 3, 0, 0, 2, 2, 2, 5.0, 0.0),
    CountyFigures("west", "西区", 9, 7, 4, 1, 0, 1, 0, 0, 0.0, 0.0),
    CountyFigures("north", "北区", 6, 6, 2, 0, 1, 0, 0, 1, 1.5, 0.0),
    CountyFigures("south", "南区", 21, 8, 15, 6, 3, 4, 1, 3, 20.0, 0.0),
    CountyFigures("linhe", "临河县", 5, 5, 1, 0, 0, 1, 1, 0, 0.0, 0.0),
    CountyFigures("shanyang", "山阳县", 0, 0, 0, 0, 0, 0, 0, 0, 0.0, 720.0),
)


def record(**kw: object) -> CircularRecord:
    """The circular for November 2026, issued on 1 December."""
    base = CircularRecord(
        number="示公科信通〔2026〕11号", prefix="示公科信通", year=2026, seq=11, month="2026-11",
        city="示例市", issuing_unit="示例市公安局科技信息化支队",
        header="示例市公安局科技信息化支队", cc="示例市公安局指挥中心，各县（区）公安局分管局领导",
        contact="张三 0000-0000000", issue_date="2026-12-01",
        issued_at="2026-12-01T09:00:00+08:00", timezone="Asia/Shanghai",
        period_start="2026-11-01T00:00:00+08:00", period_end="2026-12-01T00:00:00+08:00",
        recipients=tuple(Recipient(c, n, f"{n}公安分局" if n.endswith("区") else f"{n}公安局")
                         for c, n in COUNTIES),
        rankings=RANKINGS, counties=FIGURES,
        praise_rule="各类设备在线率、视频可用率、时钟准确率均达到目标值，且无逾期未整改事项的县（区），"
                    "予以通报表扬",
        criticism_rule="任一类设备在线率低于目标值，或逾期未整改事项在3项以上的县（区），予以通报批评。",
        praised=(Mention("east", "东区", ("各项指标均达到目标值", "整改事项全部按期完成。")),),
        criticised=(Mention("south", "南区", ("视频监控在线率91.24%，低于目标值95.00%",
                                              "逾期未整改事项6项")),),
    )
    return replace(base, **kw)
