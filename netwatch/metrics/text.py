"""The Prometheus text format (0.0.4) as plain strings: escaping, label sets, numbers, families.

The exposition builds its output from these instead of prometheus_client's
object model, which is too slow at city scale (docs/metrics.md, 'Size and cost of a scrape').
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

TYPES = ("gauge", "counter", "untyped")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_INF = float("inf")


def escape_label(value: str) -> str:
    """Label values escape backslash, double quote and newline; everything else is literal."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def escape_help(text: str) -> str:
    """HELP text escapes backslash and newline only."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def label_body(pairs: Iterable[tuple[str, str]]) -> str:
    """``a="x",b="y"`` without braces, so callers can append labels to a pre-rendered set."""
    return ",".join(f'{name}="{escape_label(value)}"' for name, value in pairs)


def labels(pairs: Iterable[tuple[str, str]]) -> str:
    """A rendered label set with braces, or nothing for a label-less sample."""
    body = label_body(pairs)
    return "{" + body + "}" if body else ""


def number(value: float) -> str:
    """A sample value: shortest round-trip float, NaN and ±Inf spelled as the format wants."""
    value = float(value)
    if value != value:
        return "NaN"
    if value == _INF:
        return "+Inf"
    if value == -_INF:
        return "-Inf"
    return float.__repr__(value)


def header(name: str, kind: str, help_text: str) -> str:
    """The ``# HELP`` and ``# TYPE`` lines that open a family."""
    return f"# HELP {name} {escape_help(help_text)}\n# TYPE {name} {kind}\n"


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """Name, type and help of one metric family, checked once when defined."""

    name: str
    kind: str
    help: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"metric family {self.name!r}: not a valid metric name")
        if self.kind not in TYPES:
            raise ValueError(f"metric family {self.name}: type {self.kind!r} is not one of "
                             f"{', '.join(TYPES)}")
        if (self.kind == "counter") != self.name.endswith("_total"):
            raise ValueError(f"metric family {self.name}: only counters end in _total")

    @property
    def header(self) -> str:
        return header(self.name, self.kind, self.help)


@dataclass(slots=True)
class Family:
    """A family computed at scrape time from small data: samples as (label set, value)."""

    spec: FamilySpec
    samples: list[tuple[str, float]] = field(default_factory=list)

    def add(self, label_set: str, value: float) -> None:
        """Add one sample; ``label_set`` comes from ``labels()`` (or "" for none)."""
        self.samples.append((label_set, value))

    def text(self) -> str:
        name = self.spec.name
        lines = [f"{name}{label_set} {number(value)}\n" for label_set, value in self.samples]
        return self.spec.header + "".join(lines)
