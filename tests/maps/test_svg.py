"""The one renderer: every numbered label drawn, every marker inside the frame, outlines closed,
the disclaimer, the legend, crowds merged into cells, text from outside escaped."""

from __future__ import annotations

import io
import math
import random

from PIL import Image

from netwatch.maps import DISCLAIMER, Frame, MapSpec, Marker, Region, render_svg, svg_to_png
from netwatch.maps.svg import CROWD_MAX, LABELLED_MAX, MAX_CELLS
from tests.maps.svgcheck import inside, marker_points, read, subpaths

RING = ((105.8, 38.0), (106.3, 38.0), (106.3, 38.4), (105.8, 38.4), (105.8, 38.0))
HOLE = ((105.9, 38.1), (106.0, 38.1), (106.0, 38.2), (105.9, 38.2), (105.9, 38.1))
EAST = ((106.3, 38.0), (106.8, 38.0), (106.8, 38.4), (106.3, 38.4), (106.3, 38.0))
KINDS = ("coverage_hole", "site_down", "uplink_down", "uplink_slow")
LEGEND = (("coverage_hole", "覆盖盲区"), ("site_down", "基站故障"), ("uplink_down", "传输中断"),
          ("uplink_slow", "传输降速"), ("site", "最近基站"))


def scattered(n: int, seed: int = 7) -> list[Marker]:
    rng = random.Random(seed)
    return [Marker(105.81 + rng.random() * 0.48, 38.01 + rng.random() * 0.38, KINDS[i % 4],
                   str(i + 1)) for i in range(n)]


def spec(markers: list[Marker], **more: object) -> MapSpec:
    regions = (Region(((RING, HOLE),), "临河县"), Region(((EAST,),), "石桥区", faint=True))
    return MapSpec("临河县信号盲区分布示意图", regions, tuple(markers), LEGEND, **more)  # type: ignore[arg-type]


def test_every_label_drawn_every_marker_inside_outlines_closed() -> None:
    markers = scattered(40) + [Marker(106.5, 38.2, "site", "基站甲")]  # a site in the next county
    drawn = read(render_svg(spec(markers)))
    assert sorted(drawn.labels) == sorted(m.label for m in markers)
    assert len(drawn.markers) == len(markers)
    for el in drawn.markers:
        assert all(inside(drawn.frame, x, y) for x, y in marker_points(el))
    assert len(drawn.outlines) == 2
    for d in drawn.outlines:
        parts = subpaths(d)
        assert parts and all(p.startswith("M") and p.endswith("Z") for p in parts)
    assert len(subpaths(drawn.outlines[1])) == 2  # the county's outer ring and its hole
    assert DISCLAIMER in drawn.texts
    assert "覆盖盲区（10）" in drawn.texts and "最近基站（1）" in drawn.texts
    assert "北 N" in drawn.texts
    assert any(t.endswith(" km") for t in drawn.texts)  # the scale bar


def test_crowds_merge_into_cells_and_keep_the_first_labels() -> None:
    markers = scattered(10_000)
    drawn = read(render_svg(spec(markers)))
    assert drawn.labels == [str(n) for n in range(1, LABELLED_MAX + 1)]
    assert len(drawn.markers) == LABELLED_MAX
    assert 0 < len(drawn.cells) <= MAX_CELLS
    counts = [int(t.text or "0") for t in drawn.root.iter("{http://www.w3.org/2000/svg}text")
              if t.get("class") == "cell-count"]
    assert sum(counts) == 10_000 - LABELLED_MAX
    assert "覆盖盲区（2500）" in drawn.texts
    assert any("合并" in t for t in drawn.texts)
    for cell in drawn.cells:
        assert all(inside(drawn.frame, x, y) for x, y in marker_points(cell))
    below = read(render_svg(spec(scattered(CROWD_MAX))))
    assert len(below.labels) == CROWD_MAX and not below.cells


def test_hull_outlines_are_dashed_and_said_so() -> None:
    drawn = read(render_svg(MapSpec("x", (Region(((RING,),), "县", hull=True),), (), ())))
    path = next(p for p in drawn.root.iter("{http://www.w3.org/2000/svg}path")
                if p.get("class") == "outline")
    assert path.get("stroke-dasharray")
    assert any("未配置区县边界" in t for t in drawn.texts)


def test_names_from_outside_are_escaped() -> None:
    hostile = '<script>alert(1)</script>&"'
    svg = render_svg(MapSpec(hostile, (Region(((RING,),), hostile),),
                             (Marker(106.0, 38.2, "site", hostile),), (("site", hostile),),
                             (hostile,)))
    assert "<script>" not in svg
    drawn = read(svg)  # still well-formed XML
    assert hostile in drawn.labels


def test_rates_legend_lists_the_classes() -> None:
    drawn = read(render_svg(MapSpec("在线率", (Region(((RING,),), "县", "在线率 97.0%",
                                                    fill="#FECC5C"),), rates=True)))
    assert {"≥98%", "95%–98%", "90%–95%", "<90%", "无数据"} <= set(drawn.texts)
    assert "在线率 97.0%" in drawn.texts


def test_the_frame_fits_and_its_scale_bar_is_true() -> None:
    frame = Frame.fit([(105.8, 38.0), (106.3, 38.4)], 10, 20, 600, 400)
    for lon, lat in ((105.8, 38.0), (106.3, 38.4), (106.0, 38.2)):
        assert frame.inside(*frame.project(lon, lat))
    length, label = frame.scale_bar(150)
    assert label in ("5 km", "10 km", "20 km")
    metres = float(label.split()[0]) * 1000
    assert math.isclose(length * frame.metres_per_unit, metres)
    # east–west and north–south keep one scale: 0.1° of longitude is cos(lat) of 0.1° north
    x0, y0 = frame.project(106.0, 38.2)
    x1, _ = frame.project(106.1, 38.2)
    _, y1 = frame.project(106.0, 38.3)
    assert math.isclose((x1 - x0) / (y0 - y1), math.cos(math.radians(38.2)), rel_tol=1e-3)


def test_png_is_drawn_and_repeatable() -> None:
    svg = render_svg(spec(scattered(12)))
    png = svg_to_png(svg, 900)
    assert png == svg_to_png(svg, 900)
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] == 900
    dark = sum(image.histogram()[:128])
    assert dark > 2000  # outlines, markers, labels and the legend are there
