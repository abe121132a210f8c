"""The notice's map (附图): the county's items where they are, numbered as in the 问题清单.

Drawn from the record alone: its items' coordinates and the county's outline were
fixed when it was issued (``netwatch.notices.issue``), so the map of a notice never
changes. New items carry their row number, items carried forward ``前N`` (``CN`` in
English), the row of the carried table. A notice issued before maps has neither
coordinates nor outline and gets no map page; an item without coordinates is named
under the legend instead.
"""

from __future__ import annotations

from netwatch.maps import STYLES, MapSpec, Marker, Region, render_svg
from netwatch.notices import words as w
from netwatch.notices.record import ItemView, NoticeRecord
from netwatch.vocab import OUTAGE_PROBLEMS, BlindCause

DEVICE_WORDS = {"device_down": ("设备离线或中断", "device down"),
                "device_fault": ("设备其他问题", "other device problem")}
CARRIED_PREFIX = {"zh": "前", "en": "C"}


def kind_of(item: ItemView) -> str:
    """The marker kind: a device's outage or other problem, a blind spot's cause."""
    if item.subject_type == "device":
        return "device_down" if item.problem in OUTAGE_PROBLEMS else "device_fault"
    cause = item.evidence.get("cause")
    return cause if isinstance(cause, str) and cause in STYLES else BlindCause.COVERAGE_HOLE


def labelled(record: NoticeRecord, lang: str) -> list[tuple[ItemView, str]]:
    """Every listed item with its label: the row, ``前`` + row when carried forward."""
    prefix = CARRIED_PREFIX["zh" if lang == "zh" else "en"]
    return [(i, str(i.row)) for i in record.items] + [
        (i, f"{prefix}{i.row}") for i in record.carried]


def notice_map(record: NoticeRecord, lang: str = "zh") -> MapSpec | None:
    """The map of the notice's items, or None when the record has nothing to draw."""
    zh = lang == "zh"
    every = labelled(record, lang)
    located = [(i, label) for i, label in every if i.lat is not None and i.lon is not None]
    if record.outline is None and not located:
        return None
    regions = () if record.outline is None else (
        Region(record.outline, record.county_name, hull=bool(record.outline_hull)),)
    markers = tuple(Marker(i.lon, i.lat, kind_of(i), label)  # type: ignore[arg-type]
                    for i, label in located)
    kinds = {m.kind for m in markers}
    legend = [(k, w.word(DEVICE_WORDS, k, lang)) for k in DEVICE_WORDS if k in kinds]
    legend += [(str(k), (f"信号盲区：{w.word(w.CAUSES, k, lang)}" if zh
                         else f"blind spot: {w.word(w.CAUSES, k, lang)}"))
               for k in w.CAUSES if k in kinds]
    if zh:
        notes = ["编号为问题清单的序号"
                 + ("，“前N”为前期未整改问题的序号。" if record.carried else "。")]
    else:
        notes = ["Numbers are the rows of the problem list"
                 + ("; CN the rows of the carried-forward list." if record.carried else ".")]
    missing = [label for i, label in every if i.lat is None or i.lon is None]
    if missing:
        notes.append(("无坐标未标注：" if zh else "Not on the map (no coordinates): ")
                     + ("、" if zh else ", ").join(missing))
    title = (f"{record.county_name}问题分布示意图" if zh
             else f"Problems on the map: {record.county_name}")
    # wide enough that on the annex's landscape page the 版记 still fits under the map
    return MapSpec(title, regions, markers, tuple(legend), tuple(notes), width=1150,
                   height=620, uid="notice-map", lang="zh" if zh else "en")


def map_svg(record: NoticeRecord, lang: str = "zh") -> str:
    """The map as SVG, "" when the notice has none."""
    spec = notice_map(record, lang)
    return "" if spec is None else render_svg(spec)
