"""The circular record: what an issued monthly circular (通报) says, frozen, as stored.

A circular is issued once per month for the whole city and never changes; its HTML,
PDF, DOCX and XLSX files are renderings of this record. Every figure in it was computed
from stored history when it was issued (``netwatch.circulars.figures``): rates are
time-weighted over the time netwatch watched the devices, declared outage time is taken
out of them and shown apart. Times are ISO 8601 strings with the time zone's offset,
dates ``YYYY-MM-DD``, ratios 0..1 (None where nothing was measured), hours rounded to
0.1. Measures and kinds stay codes here; the renderers put them into words.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

MEASURES: tuple[str, ...] = ("online", "video", "clock")  # 在线率, 视频可用率, 时钟准确率


@dataclass(frozen=True, slots=True)
class Recipient:
    """A county unit the circular is addressed to (主送)."""

    county: str
    county_name: str
    receiving_unit: str


@dataclass(frozen=True, slots=True)
class RankRow:
    """One county's line in one ranking table."""

    county: str
    county_name: str
    rank: int | None  # 1 = best; ties share a rank; None: nothing measured (listed last)
    devices: int  # devices of the kind (with the check, for video and clock)
    ratio: float | None  # time-weighted over monitored time; None: no monitored time
    meets_target: bool | None  # None without a ratio or a target
    monitored_hours: float  # device-hours the ratio is over
    declared_hours: float  # device-hours taken out of it as declared outages


@dataclass(frozen=True, slots=True)
class Ranking:
    """The counties ranked by one measure for one device kind."""

    measure: str  # MEASURES
    kind: str  # device kind, or "camera_key_area"
    target: float | None
    rows: tuple[RankRow, ...]


@dataclass(frozen=True, slots=True)
class CountyFigures:
    """A county's items, blind spots, declared outages and unwatched time in the month."""

    county: str
    county_name: str
    items_new: int  # notice items opened in the month
    items_fixed: int  # closed as verified in the month
    items_open: int  # open or rectified at the month's end
    items_overdue: int  # of those, past their deadline at the month's end
    items_recurring: int  # of those, problems that came back after a repair
    blind_spots_found: int  # coverage items (points and cells) opened in the month
    blind_spots_fixed: int  # closed as verified in the month
    declared_count: int  # declared outages that covered part of the month
    declared_hours: float  # their hours within the month (declaration hours, not devices)
    unwatched_hours: float  # hours of the month nothing watched the county


@dataclass(frozen=True, slots=True)
class Mention:
    """A county praised (通报表扬) or named (通报批评), with why, in the bureau's words."""

    county: str
    county_name: str
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CircularRecord:
    number: str  # {prefix}〔{year}〕{seq}号, numbered like the notices under its own prefix
    prefix: str
    year: int
    seq: int
    month: str  # YYYY-MM, the month reported on
    city: str
    issuing_unit: str
    header: str  # the red 版头 text
    cc: str  # 抄送 line
    contact: str
    issue_date: str
    issued_at: str
    timezone: str
    period_start: str  # 00:00 of the month's first day
    period_end: str  # 00:00 of the next month's first day
    recipients: tuple[Recipient, ...]
    rankings: tuple[Ranking, ...]
    counties: tuple[CountyFigures, ...]
    praise_rule: str  # the stated rule, as it stood when issued
    criticism_rule: str
    praised: tuple[Mention, ...]
    criticised: tuple[Mention, ...]
    demonstration: bool = False  # built from the demo's seeded history: the document says so

    def to_json(self) -> str:
        """The stored and published form (stable key order, UTF-8 text)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, indent=1)

    @classmethod
    def from_json(cls, text: str) -> CircularRecord:
        data: dict[str, Any] = json.loads(text)
        data["recipients"] = tuple(Recipient(**r) for r in data["recipients"])
        data["rankings"] = tuple(
            Ranking(**{**r, "rows": tuple(RankRow(**x) for x in r["rows"])})
            for r in data["rankings"])
        data["counties"] = tuple(CountyFigures(**c) for c in data["counties"])
        for name in ("praised", "criticised"):
            data[name] = tuple(Mention(**{**m, "reasons": tuple(m["reasons"])})
                               for m in data[name])
        return cls(**data)
