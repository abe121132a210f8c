"""The construction plan (``coverage plan``, docs/coverage.md): a county's blind spots ranked, as
printable HTML and as CSV for Excel.

Ranking: the point's priority first (1 is highest; cells rank as priority 3),
then how far the median lies under the blind limit (no usable signal is
deepest), then how many readings back it, then the id. Each row names the three
nearest trunking sites with their distances and the cause, so a planner can tell
a repair (site or backhaul down) from a true hole that needs a new site. The HTML
shows them on a map too (``plan_map``): each blind spot with its rank number and the
shape of its cause, the nearest sites, the county's outline and its neighbours'.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape

from netwatch.coverage.analysis import BlindSpot, CoverageReport
from netwatch.coverage.sites import Nearby, nearest, wgs84_places
from netwatch.inventory import Inventory
from netwatch.inventory import neutralise as text_cell
from netwatch.maps import MapSpec, Marker, Region, county_outline, render_svg
from netwatch.notices import CAUSES

NEAREST_SITES = 3
CAUSE_WORDS = {kind: zh for kind, (zh, _) in CAUSES.items()}  # the notices' words
TECH_WORDS = {"pdt": "PDT窄带集群", "broadband": "宽带集群"}
TREND_WORDS = {"better": "好转", "worse": "变差", "same": "持平", "new": "新发现"}
SUBJECT_WORDS = {"point": "覆盖点", "cell": "测试网格"}
HEADERS = ("序号", "类别", "编号", "名称", "区县", "制式", "纬度", "经度", "信号中位数(dBm)",
           "盲区门限(dBm)", "低于门限(dB)", "读数", "优先级", "趋势", "原因", "服务基站",
           *(f"最近基站{i}" for i in range(1, NEAREST_SITES + 1)),
           *(f"距离{i}(m)" for i in range(1, NEAREST_SITES + 1)))
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_ENV = Environment(loader=PackageLoader("netwatch.coverage", "templates"),
                   autoescape=select_autoescape(["html", "j2"]))


@dataclass(frozen=True, slots=True)
class PlanRow:
    rank: int
    spot: BlindSpot
    nearest: tuple[Nearby, ...]

    @property
    def under_text(self) -> str:
        under = self.spot.verdict.current.under_db
        return "无信号" if math.isinf(under) else f"{under:.1f}"

    @property
    def median_text(self) -> str:
        median = self.spot.verdict.current.median_dbm
        return "无信号" if median is None else f"{median:.1f}"


def importance(spot: BlindSpot) -> tuple[int, float, int, str, str]:
    """The sort key of the module docstring (smaller is more important)."""
    v = spot.verdict
    return (v.priority, -v.current.under_db, -v.current.readings, v.id, v.technology)


def plan_rows(report: CoverageReport, inventory: Inventory, county: str) -> list[PlanRow]:
    """The county's blind spots, ranked, each with its nearest trunking sites (any county)."""
    sites = wgs84_places(inventory).sites
    spots = sorted((s for s in report.blind_spots if s.verdict.county == county), key=importance)
    return [PlanRow(i, s, tuple(nearest(sites, s.verdict.lat, s.verdict.lon, NEAREST_SITES)))
            for i, s in enumerate(spots, 1)]


def cause_counts(rows: Sequence[PlanRow]) -> dict[str, int]:
    """How many rows each cause has, causes in name order."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.spot.cause.kind] = counts.get(row.spot.cause.kind, 0) + 1
    return dict(sorted(counts.items()))


def neutralise(cell: str) -> str:
    """A cell Excel would run as a formula gets a leading apostrophe; plain numbers stay."""
    return cell if _NUMBER.match(cell) else text_cell(cell)


def _cells(row: PlanRow) -> list[str]:
    v, cause = row.spot.verdict, row.spot.cause
    names = [f"{n.site.name} ({n.site.id})" for n in row.nearest]
    distances = [f"{n.distance_m:.0f}" for n in row.nearest]
    pad = [""] * (NEAREST_SITES - len(row.nearest))
    return [str(row.rank), SUBJECT_WORDS[v.subject_type], v.id, v.name, v.county,
            TECH_WORDS[v.technology], f"{v.lat:.6f}", f"{v.lon:.6f}", row.median_text,
            f"{v.current.threshold_dbm:.1f}", row.under_text, str(v.current.readings),
            str(v.priority), TREND_WORDS[v.trend], CAUSE_WORDS[cause.kind], cause.site or "",
            *names, *pad, *distances, *pad]


def render_csv(rows: Sequence[PlanRow]) -> bytes:
    """UTF-8 with a byte-order mark (Excel reads Chinese right only with it), CRLF lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([neutralise(c) for c in _cells(row)])
    return buffer.getvalue().encode("utf-8-sig")


def plan_map(rows: Sequence[PlanRow], inventory: Inventory, county: str) -> MapSpec:
    """The county's blind spots by cause, numbered as the ranked table, and their nearest
    sites, over the county's outline and its neighbours'."""
    info = inventory.counties[county]
    regions = []
    for cid in sorted(inventory.counties):
        outline = county_outline(inventory, cid)
        if outline is not None:
            regions.append(Region(outline.polygons, outline.name, hull=outline.hull,
                                  faint=cid != county))
    markers = [Marker(r.spot.verdict.lon, r.spot.verdict.lat, r.spot.cause.kind, str(r.rank))
               for r in rows]
    sites = {n.site.id: n.site for r in rows for n in r.nearest}
    markers += [Marker(s.lon, s.lat, "site", s.name) for _, s in sorted(sites.items())]
    causes = cause_counts(rows)
    legend = [(kind, CAUSE_WORDS[kind]) for kind in CAUSE_WORDS if kind in causes]
    notes = [f"编号为盲区清单的序号；共{len(rows)}处。"]
    if sites:
        legend.append(("site", "最近基站"))
    return MapSpec(f"{inventory.city}{info.name}信号盲区分布示意图（按原因）", tuple(regions),
                   tuple(markers), tuple(legend), tuple(notes), uid=f"plan-{county}")


def render_html(rows: Sequence[PlanRow], inventory: Inventory, county: str, now: float) -> str:
    """The printable plan page (A4 landscape); every text from outside is escaped."""
    info = inventory.counties[county]
    at = datetime.fromtimestamp(now, ZoneInfo(inventory.timezone))
    return _ENV.get_template("plan.html.j2").render(
        city=inventory.city, county=info, rows=rows,
        map_svg=render_svg(plan_map(rows, inventory, county)) if rows else "",
        words={"subject": SUBJECT_WORDS, "tech": TECH_WORDS, "trend": TREND_WORDS,
               "cause": CAUSE_WORDS},
        causes=[(CAUSE_WORDS[k], n) for k, n in cause_counts(rows).items()],
        generated=f"{at.year}年{at.month}月{at.day}日 {at:%H:%M}",
        window_days=f"{inventory.coverage.window_seconds / 86400:.4g}",
        rectify_days=inventory.coverage.rectify_within_days)


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_plan(out_dir: Path, rows: Sequence[PlanRow], inventory: Inventory, county: str,
               now: float) -> tuple[Path, Path]:
    """``OUT/COUNTY/plan.html`` and ``plan.csv``, each replaced atomically."""
    folder = out_dir / county
    folder.mkdir(parents=True, exist_ok=True)
    html_path, csv_path = folder / "plan.html", folder / "plan.csv"
    _write_atomic(html_path, render_html(rows, inventory, county, now).encode("utf-8"))
    _write_atomic(csv_path, render_csv(rows))
    return html_path, csv_path
