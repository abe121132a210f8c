"""The construction plan: ranking, nearest sites, CSV for Excel, hostile names in HTML."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from netwatch.coverage.analysis import analyse
from netwatch.coverage.plan import (
    CAUSE_WORDS,
    neutralise,
    plan_rows,
    render_csv,
    render_html,
    write_plan,
)
from netwatch.inventory import Inventory
from netwatch.maps import DISCLAIMER
from netwatch.store import Store
from tests.coverage.city import HOSTILE, NOW, add, add_many, load_city
from tests.maps.svgcheck import inside, marker_points, read, subpaths


@pytest.fixture
def inv(tmp_path: Path) -> Inventory:
    return load_city(tmp_path)


def _north(store: Store) -> None:
    """n-cp-1 (priority 1) 2 dB under; n-cp-3 (priority 3, hostile name) 20 dB under with
    five readings; a cell 20 dB under with three readings; n-cp-2 (priority 2) no signal."""
    add_many(store, [-110, -110, -110], county="north", point="n-cp-1")
    add_many(store, [-128] * 5, county="north", point="n-cp-3")
    for _ in range(3):
        add(store, county="north", lat=38.45, lon=105.95, rssi_dbm=-128)
    for _ in range(3):
        add(store, county="north", point="n-cp-2", technology="broadband", no_service=True)


def test_blind_spots_rank_by_priority_then_depth_then_readings(store: Store,
                                                               inv: Inventory) -> None:
    _north(store)
    rows = plan_rows(analyse(store, inv, NOW), inv, "north")
    assert [(r.rank, r.spot.verdict.id) for r in rows][:3] == [
        (1, "n-cp-1"), (2, "n-cp-2"), (3, "n-cp-3")]
    assert rows[3].spot.verdict.subject_type == "cell"  # same priority and depth, fewer readings
    assert plan_rows(analyse(store, inv, NOW), inv, "east") == []


def test_each_row_names_the_three_nearest_sites(store: Store, inv: Inventory) -> None:
    """Nearest first, from any county, with great-circle distances."""
    _north(store)
    row = plan_rows(analyse(store, inv, NOW), inv, "north")[0]
    assert [n.site.id for n in row.nearest] == ["n-ts-1", "n-ts-2", "s-ts-1"]
    assert 1000 < row.nearest[0].distance_m < 1500  # 0.01° north and east of n-ts-1
    distances = [n.distance_m for n in row.nearest]
    assert distances == sorted(distances)


@pytest.mark.parametrize(("cell", "out"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=x", "'\t=x"), ("-112.5", "-112.5"), ("-3", "-3"), ("北镇", "北镇"), ("", ""),
])
def test_formula_cells_are_neutralised_and_numbers_kept(cell: str, out: str) -> None:
    assert neutralise(cell) == out


def test_csv_is_utf8_with_bom_and_hostile_names_neutralised(store: Store,
                                                            inv: Inventory) -> None:
    _north(store)
    data = render_csv(plan_rows(analyse(store, inv, NOW), inv, "north"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["序号", "类别", "编号", "名称"] and len(rows) == 5
    hostile = next(r for r in rows if r[2] == "n-cp-3")
    assert hostile[3] == "'" + HOSTILE
    assert hostile[8] == "-128.0" and hostile[10] == "20.0"  # numbers stay numbers
    assert rows[2][8] == "无信号"  # n-cp-2 heard nothing
    assert all(not c.startswith(("=", "+", "@")) for r in rows for c in r)


def test_html_escapes_hostile_names_and_says_when_there_is_nothing(store: Store,
                                                                   inv: Inventory) -> None:
    _north(store)
    report = analyse(store, inv, NOW)
    page = render_html(plan_rows(report, inv, "north"), inv, "north", NOW)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "北区数字集群信号盲区建设计划" in page and "共发现信号盲区 4 处" in page
    empty = render_html(plan_rows(report, inv, "east"), inv, "east", NOW)
    assert "未发现信号盲区" in empty and "<table>" not in empty


def test_write_plan_puts_both_files_under_the_county(store: Store, inv: Inventory,
                                                     tmp_path: Path) -> None:
    _north(store)
    rows = plan_rows(analyse(store, inv, NOW), inv, "north")
    html_path, csv_path = write_plan(tmp_path / "out", rows, inv, "north", NOW)
    assert html_path == tmp_path / "out" / "north" / "plan.html"
    assert csv_path.read_bytes() == render_csv(rows)
    assert sorted(p.name for p in html_path.parent.iterdir()) == ["plan.csv", "plan.html"]


def test_the_plan_page_maps_its_blind_spots_numbered_as_the_table(store: Store,
                                                                 inv: Inventory) -> None:
    """One map per county: each blind spot's rank beside its cause's shape, inside the
    frame, the nearest sites, the county's closed outline, the disclaimer."""
    _north(store)
    report = analyse(store, inv, NOW)
    rows = plan_rows(report, inv, "north")
    page = render_html(rows, inv, "north", NOW)
    assert page.count("<svg") == 1
    drawn = read(page[page.index("<svg"):page.index("</svg>") + len("</svg>")])
    sites = sorted({n.site.id: n.site.name for r in rows for n in r.nearest}.values())
    assert sorted(drawn.labels) == sorted([str(r.rank) for r in rows] + sites)
    assert len(drawn.markers) == len(rows) + len(sites)
    for el in drawn.markers:
        assert all(inside(drawn.frame, x, y) for x, y in marker_points(el))
    assert drawn.outlines and all(p.endswith("Z") for d in drawn.outlines for p in subpaths(d))
    assert DISCLAIMER in drawn.texts
    hole = CAUSE_WORDS["coverage_hole"]
    assert f"{hole}（{len(rows)}）" in drawn.texts and f"最近基站（{len(sites)}）" in drawn.texts
    assert "二、盲区分布图" in page and "三、盲区清单" in page
    assert "<svg" not in render_html(plan_rows(report, inv, "east"), inv, "east", NOW)
