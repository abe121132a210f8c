"""One renderer: a ``MapSpec`` (regions, markers, legend) as a self-contained SVG, no tiles.

Everything is drawn from WGS-84 through ``Frame`` (equirectangular, north up): the
regions (county outlines; dashed where the outline is a hull, not a boundary), then
the markers, then their labels (the numbers of the tables beside the map) with a
white halo so they read over anything. A legend names each shape with its count, a
scale bar and a north arrow sit in the frame, and every map says
``示意图，不作为行政区划界线依据``. When there are more than ``CROWD_MAX`` markers the
first ``LABELLED_MAX`` (the callers give them in rank order) are drawn one by one
with their labels and the rest are merged into ``CELL`` squares showing how many they
hold. Only presentation attributes, no ``style``: the SVG embeds in pages whose CSP
forbids inline styles, in WeasyPrint's PDF and in cairosvg's PNG alike. All text
from outside (names) is escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from netwatch.inventory import Polygon
from netwatch.maps.frame import Frame
from netwatch.maps.outlines import label_point
from netwatch.maps.symbols import BLACK, GREY, NO_RATE, RATE_CLASSES, STYLES, shape_svg

DISCLAIMER = "示意图，不作为行政区划界线依据"
FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, sans-serif"
CROWD_MAX = 400  # markers drawn one by one up to this many
LABELLED_MAX = 50  # past CROWD_MAX: the first this many keep their marker and label
CELL = 16.0  # the merged squares' smallest edge, SVG units
MAX_CELLS = 250  # the squares grow (×1.5) until at most this many hold the rest
MARKER_R = 6.0
LEGEND_W = 250.0
MARGIN = 14.0
TITLE_H = 34.0
FOOT_H = 26.0
LABEL_SIZE = 11.0
MIN_STEP = 0.4  # outline positions closer than this (SVG units) to the last kept are dropped
# The renderer's own words (the disclaimer stays Chinese on every map: it is the rule's text)
WORDS = {
    "legend": ("图例", "Legend"),
    "boundary": ("区县边界", "county boundary"),
    "hull": ("未配置区县边界：按设备与测试点范围外扩1公里示意",
             "no boundary given: the county's devices and points, 1 km around"),
    "merged": (f"点多处合并显示：方格内数字为该处点数（前{LABELLED_MAX}项单独标注）",
               f"crowded: a square holds the number shown (the first {LABELLED_MAX} apart)"),
    "rate": ("在线率", "online rate"),
    "no_rate": ("无数据", "no data"),
}


def _word(key: str, lang: str) -> str:
    return WORDS[key][0 if lang == "zh" else 1]


@dataclass(frozen=True, slots=True)
class Region:
    """A county (or any area) drawn as an outline, named at its middle."""

    polygons: tuple[Polygon, ...]  # WGS-84 (lon, lat)
    name: str = ""
    detail: str = ""  # a second line under the name (an online rate)
    fill: str = "none"
    hull: bool = False  # the padded hull of its places: dashed, and the legend says why
    faint: bool = False  # a neighbour shown for context: light line, no name


@dataclass(frozen=True, slots=True)
class Marker:
    lon: float
    lat: float
    kind: str  # a key of symbols.STYLES
    label: str = ""  # the number in the table beside the map


@dataclass(frozen=True, slots=True)
class MapSpec:
    title: str
    regions: tuple[Region, ...] = ()
    markers: tuple[Marker, ...] = ()  # rank order: the first keep their labels when crowded
    legend: tuple[tuple[str, str], ...] = ()  # (kind, words) in the order to list them
    notes: tuple[str, ...] = ()
    rates: bool = False  # the legend explains the online-rate colours
    width: float = 960.0
    height: float = 640.0
    uid: str = "map"  # unique within a page (clip path ids)
    lang: str = "zh"  # of the legend's own words


@dataclass(slots=True)
class _Out:
    parts: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)


def render_svg(spec: MapSpec) -> str:
    """The map as an SVG document (a string; deterministic for a spec)."""
    box_w = spec.width - LEGEND_W - 3 * MARGIN
    box_h = spec.height - TITLE_H - FOOT_H - MARGIN
    places = [(m.lon, m.lat) for m in spec.markers]
    shown = [r for r in spec.regions if not r.faint] or list(spec.regions)
    places += [pt for r in shown for p in r.polygons for pt in p[0]]  # neighbours are clipped
    frame = Frame.fit(places, MARGIN, TITLE_H, box_w, box_h)
    out = _Out()
    w, h = spec.width, spec.height
    out.add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:g}" height="{h:g}" '
            f'viewBox="0 0 {w:g} {h:g}" role="img" aria-label={quoteattr(spec.title)} '
            f'font-family="{FONT}" class="netwatch-map">')
    out.add(f'<rect x="0" y="0" width="{w:g}" height="{h:g}" fill="#FFFFFF"/>')
    out.add(f'<text x="{MARGIN:g}" y="{TITLE_H - 11:g}" font-size="16" font-weight="bold" '
            f'fill="{BLACK}" class="title">{escape(spec.title)}</text>')
    clip = f"{spec.uid}-frame"
    out.add(f'<clipPath id="{clip}"><rect x="{frame.x:g}" y="{frame.y:g}" '
            f'width="{frame.width:.1f}" height="{frame.height:.1f}"/></clipPath>')
    out.add(f'<g clip-path="url(#{clip})">')
    _regions(out, spec.regions, frame)
    singles, merged = _crowd(spec.markers, frame)
    _cells(out, merged)
    _markers(out, singles, frame)
    out.add("</g>")
    out.add(f'<rect x="{frame.x:g}" y="{frame.y:g}" width="{frame.width:.1f}" '
            f'height="{frame.height:.1f}" fill="none" stroke="{BLACK}" stroke-width="1" '
            'class="frame"/>')
    _scale_bar(out, frame)
    _north_arrow(out, frame)
    counts = Counter(m.kind for m in spec.markers)
    _legend(out, spec, counts, bool(merged), frame.x + frame.width + MARGIN)
    out.add(f'<text x="{MARGIN:g}" y="{h - 9:g}" font-size="12" fill="{BLACK}" '
            f'class="disclaimer">{DISCLAIMER}</text>')
    out.add("</svg>")
    return "\n".join(out.parts) + "\n"


def _regions(out: _Out, regions: Sequence[Region], frame: Frame) -> None:
    out.add('<g class="regions">')
    for region in sorted(regions, key=lambda r: not r.faint):  # neighbours underneath
        d = " ".join(_ring_path(ring, frame) for p in region.polygons for ring in p)
        if not d:
            continue
        stroke = "#999999" if region.faint else BLACK
        dash = ' stroke-dasharray="6 4"' if region.hull else ""
        out.add(f'<path d="{d}" fill="{region.fill}" fill-rule="evenodd" stroke="{stroke}" '
                f'stroke-width="{0.8 if region.faint else 1.4:g}"{dash} class="outline"/>')
    for region in regions:
        if region.faint or not region.name or not region.polygons:
            continue
        x, y = frame.project(*label_point(region.polygons))
        lines = [region.name] + ([region.detail] if region.detail else [])
        top = y - (len(lines) - 1) * 8
        for i, line in enumerate(lines):
            out.add(_halo_text(x, top + i * 16, line, 13 if i == 0 else 12, "middle",
                               "region-name" if i == 0 else "region-detail"))
    out.add("</g>")


def _ring_path(ring: Sequence[tuple[float, float]], frame: Frame) -> str:
    """``M … Z`` of one ring; positions closer than ``MIN_STEP`` to the last kept dropped."""
    kept: list[tuple[float, float]] = []
    for lon, lat in ring:
        x, y = frame.project(lon, lat)
        if kept and abs(x - kept[-1][0]) < MIN_STEP and abs(y - kept[-1][1]) < MIN_STEP:
            continue
        kept.append((x, y))
    if len(kept) > 1 and kept[0] == kept[-1]:
        kept.pop()
    if len(kept) < 3:
        return ""
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in kept) + " Z"


@dataclass(frozen=True, slots=True)
class _Cell:
    x: float
    y: float
    size: float
    kinds: Counter[str]


def _crowd(markers: Sequence[Marker], frame: Frame) -> tuple[list[Marker], list[_Cell]]:
    """The markers drawn one by one, and the rest merged into squares (with kind counts)
    that grow until at most ``MAX_CELLS`` of them hold something."""
    if len(markers) <= CROWD_MAX:
        return list(markers), []
    rest = [frame.project(m.lon, m.lat) + (m.kind,) for m in markers[LABELLED_MAX:]]
    size = CELL
    while True:
        merged: dict[tuple[int, int], Counter[str]] = {}
        for x, y, kind in rest:
            key = (int((x - frame.x) // size), int((y - frame.y) // size))
            merged.setdefault(key, Counter())[kind] += 1
        if len(merged) <= MAX_CELLS:
            break
        size *= 1.5
    cells = [_Cell(frame.x + i * size, frame.y + j * size, size, merged[(i, j)])
             for i, j in sorted(merged)]
    return list(markers[:LABELLED_MAX]), cells


def _cells(out: _Out, cells: Sequence[_Cell]) -> None:
    if not cells:
        return
    out.add('<g class="cells">')
    for cell in cells:
        kind, _ = max(cell.kinds.items(), key=lambda kv: (kv[1], -_order(kv[0])))
        n = sum(cell.kinds.values())
        colour = STYLES[kind].colour
        out.add(f'<rect x="{cell.x + 0.5:.1f}" y="{cell.y + 0.5:.1f}" '
                f'width="{cell.size - 1:.1f}" height="{cell.size - 1:.1f}" fill="{colour}" '
                f'fill-opacity="0.35" stroke="{BLACK}" stroke-width="0.5" class="cell"/>')
        size = min(cell.size * 0.42, 11.0)
        text = str(n) if n < 1000 else f"{n / 1000:.0f}k"
        middle = cell.y + cell.size / 2 + size / 3
        out.add(f'<text x="{cell.x + cell.size / 2:.1f}" y="{middle:.1f}" '
                f'font-size="{size:.1f}" text-anchor="middle" fill="{BLACK}" '
                f'class="cell-count">{text}</text>')
    out.add("</g>")


def _order(kind: str) -> int:
    return list(STYLES).index(kind) if kind in STYLES else len(STYLES)


def _markers(out: _Out, markers: Sequence[Marker], frame: Frame) -> None:
    """Markers (the first on top) and then their labels, placed where they collide least."""
    placed = [frame.project(m.lon, m.lat) for m in markers]
    out.add('<g class="markers">')
    for m, (x, y) in reversed(list(zip(markers, placed, strict=True))):
        style = STYLES[m.kind]
        out.add(shape_svg(style.shape, x, y, MARKER_R, style.colour))
    out.add("</g>")
    out.add('<g class="labels">')
    taken: list[tuple[float, float, float, float]] = [
        (x - MARKER_R, y - MARKER_R, x + MARKER_R, y + MARKER_R) for x, y in placed]
    for m, (x, y) in zip(markers, placed, strict=True):
        if not m.label:
            continue
        wide = _text_width(m.label, LABEL_SIZE)
        spots = ((x + MARKER_R + 2, y + 3.5, "start"), (x - MARKER_R - 2, y + 3.5, "end"),
                 (x, y - MARKER_R - 3, "middle"), (x, y + MARKER_R + 11, "middle"))
        best = spots[0]
        for sx, sy, anchor in spots:
            left = sx - (wide if anchor == "end" else wide / 2 if anchor == "middle" else 0)
            box = (left, sy - LABEL_SIZE + 1, left + wide, sy + 2)
            if not any(_overlap(box, t) for t in taken) and frame.inside(box[0], box[1]) \
                    and frame.inside(box[2], box[3]):
                best = (sx, sy, anchor)
                break
        sx, sy, anchor = best
        left = sx - (wide if anchor == "end" else wide / 2 if anchor == "middle" else 0)
        taken.append((left, sy - LABEL_SIZE + 1, left + wide, sy + 2))
        out.add(_halo_text(sx, sy, m.label, LABEL_SIZE, anchor, "label"))
    out.add("</g>")


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _text_width(text: str, size: float) -> float:
    """About how wide a text is: CJK characters are square, Latin ones about half."""
    return sum(size if ord(c) > 0x2E80 else size * 0.58 for c in text)


def _halo_text(x: float, y: float, text: str, size: float, anchor: str, cls: str) -> str:
    """Text with a white outline under it, so it reads over lines and fills."""
    attrs = (f'x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}"')
    body = escape(text)
    return (f'<text {attrs} fill="#FFFFFF" stroke="#FFFFFF" stroke-width="3" '
            f'stroke-linejoin="round" class="halo">{body}</text>'
            f'<text {attrs} fill="{BLACK}" class="{cls}">{body}</text>')


def _scale_bar(out: _Out, frame: Frame) -> None:
    length, label = frame.scale_bar(frame.width / 4)
    x, y = frame.x + 12, frame.y + frame.height - 14
    out.add('<g class="scale">')
    out.add(f'<rect x="{x - 6:.1f}" y="{y - 20:.1f}" width="{length + 12:.1f}" height="28" '
            'fill="#FFFFFF" fill-opacity="0.85"/>')
    half = length / 2
    out.add(f'<rect x="{x:.1f}" y="{y - 4:.1f}" width="{half:.1f}" height="4" fill="{BLACK}"/>')
    out.add(f'<rect x="{x + half:.1f}" y="{y - 4:.1f}" width="{half:.1f}" height="4" '
            f'fill="#FFFFFF" stroke="{BLACK}" stroke-width="0.8"/>')
    out.add(f'<text x="{x:.1f}" y="{y - 8:.1f}" font-size="10" fill="{BLACK}">0</text>')
    out.add(f'<text x="{x + length:.1f}" y="{y - 8:.1f}" font-size="10" text-anchor="end" '
            f'fill="{BLACK}" class="scale-label">{label}</text>')
    out.add("</g>")


def _north_arrow(out: _Out, frame: Frame) -> None:
    x, y = frame.x + frame.width - 22, frame.y + 14
    out.add('<g class="north">')
    out.add(f'<polygon points="{x:.1f},{y:.1f} {x + 7:.1f},{y + 20:.1f} {x:.1f},{y + 15:.1f}" '
            f'fill="{BLACK}"/>')
    out.add(f'<polygon points="{x:.1f},{y:.1f} {x - 7:.1f},{y + 20:.1f} {x:.1f},{y + 15:.1f}" '
            f'fill="#FFFFFF" stroke="{BLACK}" stroke-width="0.8"/>')
    out.add(f'<text x="{x:.1f}" y="{y + 33:.1f}" font-size="11" text-anchor="middle" '
            f'fill="{BLACK}">北 N</text>')
    out.add("</g>")


def _legend(out: _Out, spec: MapSpec, counts: Counter[str], merged: bool, x: float) -> None:
    y = TITLE_H + 12
    out.add('<g class="legend">')
    out.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="13" font-weight="bold" '
            f'fill="{BLACK}">{_word("legend", spec.lang)}</text>')
    y += 20
    for kind, words in spec.legend:
        style = STYLES[kind]
        out.add(shape_svg(style.shape, x + 7, y - 4, MARKER_R, style.colour))
        n = counts.get(kind, 0)
        text = f"{words}（{n}）" if spec.lang == "zh" else f"{words} ({n})"
        y = _wrapped(out, x + 18, y, text, 11, LEGEND_W - 18)
    if any(not r.hull and not r.faint for r in spec.regions):
        out.add(f'<path d="M{x:.1f},{y - 4:.1f} h14" stroke="{BLACK}" stroke-width="1.4"/>')
        y = _wrapped(out, x + 18, y, _word("boundary", spec.lang), 11, LEGEND_W - 18)
    if any(r.hull for r in spec.regions):
        out.add(f'<path d="M{x:.1f},{y - 4:.1f} h14" stroke="{BLACK}" stroke-width="1.4" '
                'stroke-dasharray="6 4"/>')
        y = _wrapped(out, x + 18, y, _word("hull", spec.lang), 11, LEGEND_W - 18)
    if merged:
        out.add(f'<rect x="{x + 1:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{GREY}" '
                f'fill-opacity="0.45" stroke="{BLACK}" stroke-width="0.5"/>')
        y = _wrapped(out, x + 18, y, _word("merged", spec.lang), 11, LEGEND_W - 18)
    if spec.rates:
        y += 4
        out.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" fill="{BLACK}">'
                f'{_word("rate", spec.lang)}</text>')
        y += 16
        bounds = [f"≥{RATE_CLASSES[0][0]:.0%}"] + [
            f"{lo:.0%}–{hi:.0%}" for (lo, _), (hi, _) in zip(RATE_CLASSES[1:-1],
                                                            RATE_CLASSES[:-2], strict=True)]
        bounds.append(f"<{RATE_CLASSES[-2][0]:.0%}")
        classes = [*zip(RATE_CLASSES, bounds, strict=True),
                   ((0.0, NO_RATE), _word("no_rate", spec.lang))]
        for (_, colour), words in classes:
            out.add(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="14" height="12" fill="{colour}" '
                    f'stroke="{BLACK}" stroke-width="0.6"/>')
            out.add(f'<text x="{x + 18:.1f}" y="{y:.1f}" font-size="11" fill="{BLACK}">'
                    f"{escape(words)}</text>")
            y += 16
    y += 6
    for note in spec.notes:
        y = _wrapped(out, x, y, note, 10.5, LEGEND_W, "note")
    out.add("</g>")


def _wrapped(out: _Out, x: float, y: float, text: str, size: float, width: float,
             cls: str = "legend-text") -> float:
    """Text broken into lines that fit ``width``; the next line's y."""
    line = ""
    for i, ch in enumerate(text):
        # a line is not broken for its last few characters (a count such as "（6）")
        if _text_width(line + ch, size) > width and line and len(text) - i > 3:
            out.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{BLACK}" '
                    f'class="{cls}">{escape(line)}</text>')
            y += size + 4
            line = ""
        line += ch
    if line:
        out.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" fill="{BLACK}" '
                f'class="{cls}">{escape(line)}</text>')
    return y + size + 6
