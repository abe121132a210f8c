"""The circular's words: measures and kinds in Chinese, and how its figures are printed.

Every figure is printed from the record as it stands (formatting only, never
recomputed): ratios as percentages with two decimals, hours with one.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta

from netwatch.notices import words

MEASURE_NAMES: dict[str, str] = {"online": "在线率", "video": "视频可用率", "clock": "时钟准确率"}
DEMONSTRATION = "演示数据（非正式文件）"
UNMEASURED = "未监测"
NONE = "—"  # no rank, no target, nothing to judge
SUBJECT = "全市公安视频监控及通信网络运行情况"


def measure(code: str) -> str:
    """在线率 for online; an unknown code is shown as itself rather than dropped."""
    return MEASURE_NAMES.get(code, code)


def kind(code: str) -> str:
    """The device kind as the notices name it (视频监控, 重点区域视频监控, 交换机...)."""
    return words.word(words.KINDS, code, "zh")


def percent(ratio: float | None) -> str:
    """97.53% (two decimals); 未监测 without a ratio."""
    return UNMEASURED if ratio is None else f"{ratio:.2%}"


def target(ratio: float | None) -> str:
    """The target as a percentage, — where none is set."""
    return NONE if ratio is None else f"{ratio:.2%}"


def verdict(meets: bool | None) -> str:
    """达标 / 未达标, — where nothing could be judged."""
    return NONE if meets is None else "达标" if meets else "未达标"


def rank(value: int | None) -> str:
    return NONE if value is None else str(value)


def hours(value: float) -> str:
    """Hours as the record rounds them (0.1)."""
    return f"{value:.1f}"


def month(ym: str) -> str:
    """2026年11月 from 2026-11."""
    y, m = ym.split("-")
    return f"{int(y)}年{int(m)}月"


def date(iso: str) -> str:
    """2026年12月1日 from an ISO date or timestamp."""
    return words.date(iso, "zh")


def last_day(period_end: str) -> str:
    """The month's last day in words, from the 00:00 that ends the period."""
    return date((Date.fromisoformat(period_end[:10]) - timedelta(days=1)).isoformat())


def clause(text: str) -> str:
    """The text without its closing punctuation (rules and reasons come with or without)."""
    return text.strip().rstrip("。；;，,.")


def sentence(*clauses: str) -> str:
    """Clauses joined by semicolons, ending in one full stop."""
    return "；".join(clause(c) for c in clauses) + "。"
