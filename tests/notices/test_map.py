"""The notice's map page: coordinates kept at issue time, numbered as the 问题清单, in the HTML,
the PDF (read back with poppler) and the DOCX (a PNG); notices from before maps keep their
bytes and simply have no map page."""

from __future__ import annotations

import io
import subprocess
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from netwatch.inventory import Area, County, to_wgs84
from netwatch.maps import DISCLAIMER
from netwatch.notices.docx_file import render_docx
from netwatch.notices.figure import notice_map
from netwatch.notices.issue import issue_notices
from netwatch.notices.pdf import render_pdf
from netwatch.notices.record import Candidate, NoticeRecord
from netwatch.notices.render import render_html, render_markdown
from netwatch.store import Store
from tests.maps.svgcheck import inside, marker_points, read, subpaths
from tests.notices.city import DEVICES, at, city, fault
from tests.notices.factory import item, record

RING = ((105.8, 38.0), (106.3, 38.0), (106.3, 38.4), (105.8, 38.4), (105.8, 38.0))


def mapped() -> NoticeRecord:
    """Three new items (one without coordinates) and one carried forward, with an outline."""
    return record(
        items=(item(1, lat=38.1, lon=105.9),
               item(2, kind="switch", problem="uplink_down", suppressed_children=7, lat=38.3,
                    lon=106.2),
               item(3, problem="flapping")),
        carried=(item(1, item_id=9, overdue=True, lat=38.35, lon=105.85),),
        outline=((RING,),), outline_hull=False)


def svg_of(html: str) -> str:
    return html[html.index("<svg"):html.index("</svg>") + len("</svg>")]


def test_issue_keeps_where_each_item_is_and_the_outline(store: Store) -> None:
    """Devices from the inventory, a blind cell from its evidence, the county's boundary
    (west has none: the padded hull of its devices); the JSON round-trips."""
    devices = [replace(d, lat=38.1 + i / 100, lon=105.9) for i, d in enumerate(DEVICES)]
    inv = city(*devices)
    east = County("east", "东区", "东区公安分局", area=Area.of(((RING,),)))
    inv = replace(inv, counties={**inv.counties, "east": east})
    fault(store, "site-1", at("2026-11-20"), kind="trunking_site")
    fault(store, "cam-8", at("2026-11-20"), county="west")
    cell = Candidate("cell", "cell-1-2/pdt", "east", "blind_spot", "cell-1-2", "pdt",
                     "38.20000, 106.10000", at("2026-11-20"), "minor", 30,
                     {"readings": 3, "median_dbm": -115.0, "threshold_dbm": -108.0,
                      "cause": "coverage_hole", "site": None, "lat": 38.2, "lon": 106.1})
    out = issue_notices(store, inv, issue_date=date(2026, 11, 23), now=at("2026-11-23"),
                        extra=[cell], coverage_judged=True)
    east_notice, west_notice = (o.record for o in out)
    assert east_notice is not None and west_notice is not None
    where = {i.subject: (i.lat, i.lon) for i in east_notice.items}
    assert where == {"site-1": (38.13, 105.9), "cell-1-2/pdt": (38.2, 106.1)}
    assert east_notice.outline == ((RING,),) and east_notice.outline_hull is False
    assert west_notice.outline_hull is True and west_notice.outline is not None
    assert NoticeRecord.from_json(east_notice.to_json()) == east_notice
    drawn = read(svg_of(render_html(east_notice)))
    assert sorted(drawn.labels) == ["1", "2"]


def test_item_positions_are_converted_from_the_inventorys_datum(store: Store) -> None:
    devices = [replace(d, lat=38.13, lon=105.9) if d.id == "site-1" else d for d in DEVICES]
    inv = city(*devices)
    inv = replace(inv, coverage=replace(inv.coverage, datum="gcj02"))
    fault(store, "site-1", at("2026-11-20"), kind="trunking_site")
    [east, _] = issue_notices(store, inv, issue_date=date(2026, 11, 23), now=at("2026-11-23"))
    assert east.record is not None
    [site] = east.record.items
    lat, lon = to_wgs84("gcj02", 38.13, 105.9)
    assert (site.lat, site.lon) == (round(lat, 6), round(lon, 6)) != (38.13, 105.9)


def test_a_notice_from_before_maps_keeps_its_bytes_and_has_no_map_page() -> None:
    old = record()
    text = old.to_json()
    assert '"lat"' not in text and '"outline' not in text
    back = NoticeRecord.from_json(text)
    assert back.to_json() == text
    assert notice_map(back) is None
    assert "<svg" not in render_html(back) and "附图" not in render_markdown(back)
    with zipfile.ZipFile(io.BytesIO(render_docx(back))) as z:
        assert not [n for n in z.namelist() if n.startswith("word/media/")]


def test_the_map_numbers_the_items_as_the_problem_list() -> None:
    r = mapped()
    drawn = read(svg_of(render_html(r)))
    assert sorted(drawn.labels) == ["1", "2", "前1"]  # item 3 has no coordinates
    assert "无坐标未标注：3" in drawn.texts
    assert "设备离线或中断（3）" in drawn.texts  # unreachable twice, uplink_down once
    assert len(drawn.markers) == 3
    for el in drawn.markers:
        assert all(inside(drawn.frame, x, y) for x, y in marker_points(el))
    [outline] = drawn.outlines
    assert all(p.endswith("Z") for p in subpaths(outline))
    assert DISCLAIMER in drawn.texts and "东区问题分布示意图" in drawn.texts
    english = read(svg_of(render_html(r, "en")))
    assert sorted(english.labels) == ["1", "2", "C1"]
    assert {"Legend", "county boundary", "device down (3)", DISCLAIMER} <= set(english.texts)
    assert "附图：问题分布示意图（见 HTML、PDF、Word 版）" in render_markdown(r)


def test_blind_spots_are_drawn_by_cause() -> None:
    spot = item(1, subject_type="cell", subject="cell-1-2/pdt", kind="pdt",
                problem="blind_spot", lat=38.2, lon=106.0,
                evidence={"readings": 3, "median_dbm": None, "threshold_dbm": -108.0,
                          "cause": "site_down", "site": "site-1"})
    spec = notice_map(record(items=(spot,), carried=(), outline=((RING,),),
                             outline_hull=True))
    assert spec is not None
    assert [m.kind for m in spec.markers] == ["site_down"]
    assert spec.legend == (("site_down", "信号盲区：服务基站故障"),)
    assert spec.regions[0].hull


def pdf_pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    return out.split("\f")[:-1]


def test_pdf_map_page_read_back_with_poppler(tmp_path: Path) -> None:
    """pdftotext finds the map's title, numbers and disclaimer on one page; pdftoppm shows
    that page drawn (dark pixels well beyond a blank page's page number)."""
    pdf = tmp_path / "notice.pdf"
    pdf.write_bytes(render_pdf(mapped()))
    pages = pdf_pages(pdf)
    [number] = [n for n, text in enumerate(pages, 1) if DISCLAIMER in text]
    words = pages[number - 1].split()
    assert "东区问题分布示意图" in words
    assert {"1", "2", "前1"} <= set(words)
    assert "无坐标未标注：3" in pages[number - 1].replace("\n", "")
    subprocess.run(["pdftoppm", "-r", "50", "-f", str(number), "-l", str(number), "-png",
                    str(pdf), str(tmp_path / "page")], check=True)
    [png] = tmp_path.glob("page*.png")
    gray = Image.open(png).convert("L")
    dark = sum(gray.histogram()[:200])
    assert dark > 0.01 * gray.size[0] * gray.size[1]
    old = tmp_path / "old.pdf"
    old.write_bytes(render_pdf(record()))
    assert not any(DISCLAIMER in text for text in pdf_pages(old))


def test_docx_carries_the_map_as_a_png() -> None:
    data = render_docx(mapped())
    assert data == render_docx(mapped())  # repeatable, picture and all
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        [name] = [n for n in z.namelist() if n.startswith("word/media/")]
        image = Image.open(io.BytesIO(z.read(name))).convert("L")
    assert image.size[0] >= 1500
    assert sum(image.histogram()[:128]) > 5000


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_map_of_a_record_never_changes(lang: str) -> None:
    """The same record draws the same map: files written once stay identical."""
    spec = notice_map(mapped(), lang)
    assert spec == notice_map(NoticeRecord.from_json(mapped().to_json()), lang)

