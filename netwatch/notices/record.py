"""The notice record: what an issued notice says, frozen, as stored and as JSON.

A notice is issued once (``netwatch.notices.issue``) and never changes; its HTML,
Markdown and JSON files and every language are renderings of this record. Times
are ISO 8601 strings with the notice time zone's offset, dates ``YYYY-MM-DD`` in
that zone, durations seconds. Problem codes (``unreachable``, ``blind_spot``...)
stay codes here; the renderers put them into words per language.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SEVERITIES: tuple[str, ...] = ("critical", "major", "minor")
SUBJECT_TYPES: tuple[str, ...] = ("device", "point", "cell")
ITEM_STATES: tuple[str, ...] = ("open", "rectified", "closed")


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something that may become a notice item: a fault episode or a blind spot.

    Notices are built from candidates; fault episodes and coverage verdicts
    each produce them, so the issuing code knows neither source.
    """

    subject_type: str  # SUBJECT_TYPES
    subject: str  # device id, coverage point id, or cell id
    county: str
    problem: str  # fault kind (docs/faults.md) or finding (open_stream)
    name: str  # device or point name (untrusted text)
    kind: str  # device kind, or the coverage technology for points and cells
    location: str  # site, address or "lat, lon" (untrusted text)
    first_seen: float  # Unix seconds
    severity: str  # SEVERITIES
    rectify_within_days: int
    evidence: dict[str, Any] = field(default_factory=dict)  # failed_checks, last_good, figures...
    episode_id: int | None = None  # the fault episode behind it, if any
    suppressed_children: int = 0  # devices this one's outage took down
    refers_to: str | None = None  # "device:ID": a blind spot whose cause is that site's item


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    note: str
    promised: str  # date the county promises the repair by
    at: str  # when it was acknowledged
    by: str  # token id (never the token)


@dataclass(frozen=True, slots=True)
class ItemView:
    """One row of a notice's item table, as it stood when the notice was issued."""

    item_id: int
    row: int  # 序号, 1-based within its table
    subject_type: str
    subject: str
    name: str
    kind: str
    location: str
    problem: str
    severity: str
    first_seen: str
    duration_seconds: float  # from first seen to the notice's issue time
    deadline: str
    state: str  # ITEM_STATES
    overdue: bool
    recurrence: int  # times this problem came back after being rectified
    suppressed_children: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)
    refers_to: str | None = None
    acknowledgement: Acknowledgement | None = None
    address: str = ""  # the device's IP address ("" for points and cells)
    # Where it is (WGS-84), for the notice's map: set at issue time when known; None (and
    # absent from the JSON) without coordinates and in notices issued before maps.
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class WarningView:
    """One early warning (预警) raised on a device when the notice was issued: a line of
    its 预警提示 section, never an item (no deadline, nothing to acknowledge)."""

    device: str
    name: str
    kind: str
    warning: str  # netwatch.vocab.Warning
    since: str  # when it was raised
    figures: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KindSummary:
    """A county's online figures for one device kind over the monitoring period."""

    kind: str  # device kind, or "camera_key_area"
    expected: int  # devices that should be online
    online: int
    online_ratio: float
    target_ratio: float
    rank: int  # 1 = best among the counties with this kind
    of: int  # counties ranked


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    number: str  # {prefix}〔{year}〕{seq}号
    prefix: str
    year: int
    seq: int
    city: str
    issuing_unit: str
    county: str  # county id
    county_name: str
    receiving_unit: str
    issue_date: str
    issued_at: str
    timezone: str
    period_start: str  # the monitoring period the notice reports on
    period_end: str
    deadline: str  # the latest deadline among the new items
    contact: str
    summary: tuple[KindSummary, ...]
    items: tuple[ItemView, ...]  # new this notice
    carried: tuple[ItemView, ...]  # still open from earlier notices (overdue ones marked)
    header: str = ""  # the red 版头 text; the issuing unit when empty
    cc: str = ""  # 抄送 line of the 版记
    # Set on every notice issued since netwatch records them; None (and absent from the
    # JSON, so a stored record writes back byte for byte) in notices issued before.
    period_from: str | None = None  # when the period began: 00:00 of period_start, or when
    # watching the county's devices began if that is later (then ``short_period``)
    period_to: str | None = None  # when it ended: the issue time (a dated-back notice: 24:00)
    usual_period_days: int | None = None  # since the previous notice, else 7
    short_period: bool | None = None  # watching began after the usual start: a shorter period
    unwatched_seconds: int | None = None  # of the period, time nothing watched (monitoring
    # gaps: the daemon was down): in no online rate, neither as online nor as offline
    # The county's outline for the notice's map (WGS-84 polygons of (lon, lat) rings,
    # simplified), fixed at issue time; None in notices issued before maps, and when the
    # county had neither a boundary nor located places. ``outline_hull``: no boundary was
    # given, the outline is the padded hull of the county's places.
    outline: tuple[tuple[tuple[tuple[float, float], ...], ...], ...] | None = None
    outline_hull: bool | None = None
    # the county's video availability and clock accuracy at the period's end, and of how
    # many devices (those with a video / onvif_time check): None where it has none
    video_ratio: float | None = None
    video_cameras: int | None = None
    clock_ratio: float | None = None
    clock_devices: int | None = None
    # The early warnings raised in the county at issue time (预警提示); None in notices
    # issued before them, () when there were none.
    warnings: tuple[WarningView, ...] | None = None
    # The outages the county declared (停机报备) that covered some of the period: how many,
    # and for how long in all, each clipped to the period (a cancelled one until its
    # cancellation); None in notices issued before declarations.
    declared_outages: int | None = None
    declared_seconds: int | None = None

    def to_json(self) -> str:
        """The stored and published form (stable key order, UTF-8 text)."""
        data = asdict(self)
        for name in LATER_FIELDS:
            if data[name] is None:
                del data[name]
        for item in data["items"] + data["carried"]:
            for name in LATER_ITEM_FIELDS:
                if item[name] is None:
                    del item[name]
        return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> NoticeRecord:
        data = json.loads(text)
        data["summary"] = tuple(KindSummary(**s) for s in data["summary"])
        data["items"] = tuple(_item(i) for i in data["items"])
        data["carried"] = tuple(_item(i) for i in data["carried"])
        if data.get("warnings") is not None:
            data["warnings"] = tuple(WarningView(**v) for v in data["warnings"])
        if data.get("outline") is not None:
            data["outline"] = tuple(tuple(tuple((x, y) for x, y in ring) for ring in polygon)
                                    for polygon in data["outline"])
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# Fields added after notices were first stored: left out of the JSON while None, so a
# record issued before them writes back byte for byte.
LATER_FIELDS = ("period_from", "period_to", "usual_period_days", "short_period",
                "unwatched_seconds", "outline", "outline_hull", "video_ratio", "video_cameras",
                "clock_ratio", "clock_devices", "warnings", "declared_outages",
                "declared_seconds")
LATER_ITEM_FIELDS = ("lat", "lon")


def _item(data: dict[str, Any]) -> ItemView:
    ack = data.get("acknowledgement")
    return ItemView(**{**data, "acknowledgement": Acknowledgement(**ack) if ack else None})
