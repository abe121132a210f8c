"""Whom the circular praises (通报表扬) and whom it names (通报批评), by one stated rule.

The rule is fixed here once, as code (``mentions``) and as the sentences the record
keeps (``praise_rule``, ``criticism_rule``); its thresholds are the inventory's
(``notices.circular``):

- **named** (批评): any measured rate at least ``criticise_margin`` below its target, or
  ``criticise_overdue`` or more items overdue at the month's end;
- **praised** (表扬): not named, at least one measured rate, every measured rate at or
  above its target, no overdue item at the month's end, and ranked ``praise_rank`` or
  better in at least one table that ranks two counties or more.

Only measured rates count: a kind nothing watched neither helps nor harms. A county can
be neither, never both. Each mention gives its reasons with the county's own figures.
"""

from __future__ import annotations

from collections.abc import Iterable

from netwatch.circulars.record import CountyFigures, Mention, Ranking, RankRow
from netwatch.circulars.words import kind, measure, percent
from netwatch.inventory import CircularSettings

_EPSILON = 1e-9  # ratios are rounded to 6 decimals: a margin is met within float noise


def _points(ratio: float) -> str:
    """Percentage points, as few decimals as they need (5, 2.5, 0.25)."""
    return f"{ratio * 100:.2f}".rstrip("0").rstrip(".")


def _place(rank: int) -> str:
    return "第1" if rank == 1 else f"前{rank}"


def praise_rule(settings: CircularSettings) -> str:
    """The praise rule in the bureau's words, as the record states it."""
    return ("月内各项已监测指标（各类设备在线率，以及开展核查的视频可用率、时钟准确率）均达到"
            f"目标值、月末无逾期未整改问题，且至少一项指标排名全市{_place(settings.praise_rank)}"
            "的单位，予以通报表扬。")


def criticism_rule(settings: CircularSettings) -> str:
    """The criticism rule in the bureau's words, as the record states it."""
    return (f"月内任一项已监测指标低于目标值{_points(settings.criticise_margin)}个百分点及以上，"
            f"或月末逾期未整改问题达{settings.criticise_overdue}项及以上的单位，予以通报批评。")


def _label(table: Ranking) -> str:
    """视频监控在线率, 重点区域视频监控视频可用率, …"""
    return kind(table.kind) + measure(table.measure)


def _shortfall(row: RankRow, table: Ranking) -> float | None:
    """How far the row falls short of its table's target; None when it meets it (or there
    is no ratio or no target)."""
    if row.ratio is None or table.target is None or row.ratio >= table.target:
        return None
    return table.target - row.ratio


def _ranked(table: Ranking) -> int:
    """How many counties the table ranks (those with a ratio)."""
    return sum(1 for r in table.rows if r.rank is not None)


def mentions(rankings: Iterable[Ranking], counties: Iterable[CountyFigures],
             settings: CircularSettings) -> tuple[tuple[Mention, ...], tuple[Mention, ...]]:
    """(praised, criticised) by the rule, each in the counties' order, with the reasons."""
    tables = list(rankings)
    praised: list[Mention] = []
    criticised: list[Mention] = []
    for county in counties:
        rows = [(t, r) for t in tables for r in t.rows
                if r.county == county.county and r.ratio is not None]
        against: list[str] = []
        for table, row in rows:
            gap = _shortfall(row, table)
            if gap is not None and gap >= settings.criticise_margin - _EPSILON:
                against.append(f"{_label(table)}{percent(row.ratio)}，低于目标"
                               f"{percent(table.target)}（差{_points(gap)}个百分点）")
        if county.items_overdue >= settings.criticise_overdue:
            against.append(f"月末逾期未整改问题{county.items_overdue}项")
        if against:
            criticised.append(Mention(county.county, county.county_name, tuple(against)))
            continue
        if not rows or county.items_overdue or any(_shortfall(r, t) is not None for t, r in rows):
            continue
        top = [(t, r) for t, r in rows if r.rank is not None and r.rank <= settings.praise_rank
               and _ranked(t) > 1]  # first of one county is no ranking
        if not top:
            continue
        reasons = [f"{_label(t)}{percent(r.ratio)}，全市第{r.rank}"
                   + ("（并列）" if sum(x.rank == r.rank for x in t.rows) > 1 else "")
                   for t, r in top]
        reasons.append(f"各项已监测指标均达到目标值（共{len(rows)}项），月末无逾期未整改问题")
        praised.append(Mention(county.county, county.county_name, tuple(reasons)))
    return tuple(praised), tuple(criticised)
