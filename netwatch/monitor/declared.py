"""Outages the counties declare (停机报备): the one owner of their three tables.

A declaration names a county's devices and a span; inside it the county's planned work
is not its fault: probes go on measuring, faults first seen inside it are marked
``declared`` and become no notice item, and its time is taken out of the online rates
and reported apart. It never excuses the past: it starts no earlier than it is made,
and a fault first seen before its start stays what it was. Every declaration, change and
cancellation is kept in the append-only audit table (schema: ``declared_outages``,
``declared_outage_devices``, ``declared_outage_audit``).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from netwatch.store import Handle

REASONS: tuple[str, ...] = ("power", "roadworks", "relocation", "other")


@dataclass(frozen=True, slots=True)
class Declaration:
    """One declared outage as stored (times are Unix seconds)."""

    id: int
    county: str
    selector: dict[str, Any]
    devices: frozenset[str]
    starts: float
    ends: float
    reason: str  # REASONS
    note: str
    made_at: float
    made_by: str
    cancelled_at: float | None = None
    cancelled_by: str | None = None

    @property
    def until(self) -> float:
        """When it stops covering anything: its end, or its cancellation if earlier."""
        return min(self.ends, self.cancelled_at if self.cancelled_at is not None else math.inf)

    def covers(self, device: str, when: float) -> bool:
        return device in self.devices and self.starts <= when < self.until


_COLUMNS = ("id, county, selector, starts, ends, reason, note, made_at, made_by, "
            "cancelled_at, cancelled_by")


def declarations_within(db: Handle, start: float, end: float,
                        county: str | None = None) -> list[Declaration]:
    """The declarations that cover some of [start, end), cancelled ones included while
    they covered it, oldest first; of one county, or of all."""
    where = "starts < ? AND ends > ? AND (cancelled_at IS NULL OR cancelled_at > starts) " \
            "AND (cancelled_at IS NULL OR cancelled_at > ?)"
    params: list[Any] = [end, start, start]
    if county is not None:
        where += " AND county = ?"
        params.append(county)
    rows = db.query(f"SELECT {_COLUMNS} FROM declared_outages WHERE {where} ORDER BY id", params)
    if not rows:
        return []
    devices: dict[int, set[str]] = defaultdict(set)
    ids = [int(r[0]) for r in rows]
    for lo in range(0, len(ids), 500):
        part = ids[lo:lo + 500]
        marks = ", ".join("?" * len(part))
        for outage_id, device in db.tuples(
                "SELECT outage_id, device FROM declared_outage_devices "
                f"WHERE outage_id IN ({marks})", part):
            devices[int(outage_id)].add(device)
    return [Declaration(int(r[0]), r[1], json.loads(r[2]), frozenset(devices[int(r[0])]),
                        float(r[3]), float(r[4]), r[5], r[6], float(r[7]), r[8],
                        None if r[9] is None else float(r[9]), r[10]) for r in rows]
