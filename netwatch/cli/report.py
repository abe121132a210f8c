"""How sweep results are shown: the stable JSON of ``netwatch probe --json`` and the table.

The JSON shape is a contract (docs/commands.md, 'Watching devices'): scripts read it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from netwatch.inventory import Inventory
from netwatch.monitor import SAMPLED, DeviceResult, Verdict, judge
from netwatch.vocab import Measurement
from probes.base import ProbeResult


def judged(results: Iterable[DeviceResult]) -> list[tuple[DeviceResult, Verdict]]:
    """Each device's verdict from its regular checks: a sampled check (video, the clock) is
    shown with its figures but judged by the daemon over its samples, not by one sweep."""
    return [(r, judge(r.device, regular(r))) for r in results]


def regular(result: DeviceResult) -> dict[str, ProbeResult]:
    sampled = {c.name for c in result.device.checks if c.probe in SAMPLED}
    return ({n: r for n, r in result.checks.items() if n not in sampled} if sampled
            else result.checks)


def _number(value: float) -> float | int | None:
    if math.isnan(value) or math.isinf(value):
        return None
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def to_json(rows: Sequence[tuple[DeviceResult, Verdict]]) -> list[dict[str, Any]]:
    """One object per device, in the shape docs/commands.md gives (with findings, details)."""
    out = []
    for result, verdict in rows:
        d = result.device
        out.append(
            {
                "id": d.id,
                "county": d.county,
                "kind": d.kind,
                "address": d.address,
                "up": verdict.up,
                "fault": verdict.fault,
                "findings": list(verdict.findings),
                "checks": {
                    name: {
                        "success": r.success,
                        "reason": str(r.reason),
                        "detail": r.detail,
                        "duration_seconds": round(r.duration_seconds, 6),
                        "measurements": {k: _number(v) for k, v in r.measurements.items()},
                    }
                    for name, r in result.checks.items()
                },
            }
        )
    return out


def _check_cell(name: str, result: Any) -> str:
    m = result.measurements
    if not result.success:
        return f"[red]{name} {result.reason}[/]"
    if Measurement.RTT_SECONDS in m and name == "icmp":
        loss = m.get(Measurement.LOSS_RATIO, 0.0)
        text = f"{name} {m[Measurement.RTT_SECONDS] * 1000:.1f}ms"
        return text + (f" [yellow]loss {loss:.0%}[/]" if loss else "")
    if Measurement.STATUS_CODE in m:
        return f"{name} {int(m[Measurement.STATUS_CODE])}"
    if m.get(Measurement.UPLINK_OPER_STATUS, 1) != 1:
        return f"[yellow]{name} uplink down[/]"
    if Measurement.UPLINK_SPEED_BPS in m:
        return f"{name} uplink {m[Measurement.UPLINK_SPEED_BPS] / 1e6:g}M"
    return f"{name} ok"


def print_table(
    inventory: Inventory, rows: Sequence[tuple[DeviceResult, Verdict]], console: Console
) -> None:
    """A table per county, then a one-line summary; broken devices first in each county."""
    by_county: dict[str, list[tuple[DeviceResult, Verdict]]] = {}
    for row in rows:
        by_county.setdefault(row[0].device.county, []).append(row)
    for county_id, county_rows in by_county.items():
        county = inventory.counties.get(county_id)
        up = sum(1 for _, v in county_rows if v.up)
        title = f"{county.name if county else county_id} ({county_id}): {up}/{len(county_rows)} up"
        table = Table(title=title, title_justify="left", expand=False)
        for col in ("device", "kind", "address", "state", "fault", "checks"):
            table.add_column(col)
        county_rows.sort(
            key=lambda rv: (rv[1].fault is None, not rv[1].findings, rv[0].device.id)
        )
        for result, verdict in county_rows:
            d = result.device
            state = "[green]up[/]" if verdict.up else "[red]down[/]"
            fault = verdict.fault or ""
            if verdict.findings:
                fault = (fault + " " if fault else "") + f"[yellow]{','.join(verdict.findings)}[/]"
            checks = " · ".join(_check_cell(n, r) for n, r in result.checks.items())
            table.add_row(escape(d.id), d.kind, d.address, state, fault, checks)
        console.print(table)
    total = len(rows)
    up = sum(1 for _, v in rows if v.up)
    faults: dict[str, int] = {}
    for _, v in rows:
        if v.fault:
            faults[v.fault] = faults.get(v.fault, 0) + 1
    summary = ", ".join(f"{k} {n}" for k, n in sorted(faults.items())) or "no faults"
    console.print(f"{up}/{total} devices up; {summary}")
