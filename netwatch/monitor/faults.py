"""Faults from streaks: when one opens, closes, or is suppressed. Pure; no I/O.

Hysteresis (docs/faults.md): a fault opens after ``open_after`` cycles in a row with
its condition (flapping, itself a windowed judgement, opens at once) and closes
after ``close_after`` cycles without it. Suppression (a maintenance window, a
declared outage, a failing parent one hop up, in that order) is re-decided every cycle
and only marks faults: it never stops one from opening or closing, so history stays
true and notices can skip suppressed ones. It is derived from the parent's current
state, never kept from when a fault opened: the monitor re-marks a device's children
whenever the device itself is evaluated, and all faults when they are restored. It is
decided per fault: a declared outage marks only the faults first seen at or after its
start, so a fault already failing when the county declared stays what it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netwatch.monitor.declared import declared_id, declared_mark
from netwatch.monitor.sampling import SAMPLED_FAULTS
from netwatch.monitor.state import SAMPLED_KINDS, DeviceState
from netwatch.vocab import Fault, Measurement

MAINTENANCE = "maintenance"
RECOVERED = "recovered"
REMOVED = "removed"


@dataclass(slots=True)
class OpenFault:
    device: str
    county: str
    kind: str
    fault: str
    first_seen: float
    opened_at: float
    suppressed_by: str | None = None  # parent device id, "maintenance" or "declared#ID"
    detail: str = ""
    episode_id: int | None = None


def planned(suppressed_by: str | None) -> bool:
    """Whether a fault's mark is planned work (maintenance, a declared outage) rather than a
    failing parent: planned work took no device down."""
    return suppressed_by == MAINTENANCE or declared_id(suppressed_by) is not None


@dataclass(slots=True)
class Changes:
    opened: list[OpenFault] = field(default_factory=list)
    updated: list[OpenFault] = field(default_factory=list)  # suppression changed
    closed: list[tuple[OpenFault, str]] = field(default_factory=list)

    def extend(self, other: Changes) -> None:
        self.opened += other.opened
        self.updated += other.updated
        self.closed += other.closed

    def __bool__(self) -> bool:
        return bool(self.opened or self.updated or self.closed)


def parent_failing(parent: DeviceState | None,
                   parent_faults: Mapping[str, OpenFault] | None = None) -> bool:
    """A parent counts as failing on its latest result alone, before any fault opens; until
    it has a result in this run (just after a restart), on its open ``unreachable`` fault."""
    if parent is None:
        return False
    if parent.verdict is None:
        return parent_faults is not None and Fault.UNREACHABLE in parent_faults
    return parent.verdict.fault == Fault.UNREACHABLE


@dataclass(frozen=True, slots=True)
class Suppression:
    """What may suppress a device's faults now; each fault's mark (``mark``) also depends on
    when the fault was first seen."""

    maintenance: bool = False
    declared: tuple[tuple[int, float], ...] = ()  # (id, start) of declarations covering it now
    parent: str | None = None  # the failing parent's id

    def mark(self, first_seen: float) -> str | None:
        """Maintenance, else the first declaration that began by ``first_seen`` (a fault
        already failing before a declaration began is not excused by it), else the parent."""
        if self.maintenance:
            return MAINTENANCE
        for outage_id, starts in self.declared:
            if first_seen >= starts:
                return declared_mark(outage_id)
        return self.parent


def suppressor(parent: DeviceState | None, in_maintenance: bool,
               parent_faults: Mapping[str, OpenFault] | None = None,
               declared: tuple[tuple[int, float], ...] = ()) -> Suppression:
    """What suppresses a device's faults now: maintenance, declared outages covering it (with
    their starts), its failing parent."""
    failing = parent_failing(parent, parent_faults)
    return Suppression(in_maintenance, declared,
                       parent.device.id if failing and parent is not None else None)


def remark(open_now: Mapping[str, OpenFault], suppression: Suppression) -> list[OpenFault]:
    """Re-mark a device's open faults with what suppresses each now; returns those changed."""
    changed = []
    for fault in open_now.values():
        mark = suppression.mark(fault.first_seen)
        if fault.suppressed_by != mark:
            fault.suppressed_by = mark
            changed.append(fault)
    return changed


UNSUPPRESSED = Suppression()


def would_open(state: DeviceState, open_now: Mapping[str, OpenFault]) -> bool:
    """Whether ``evaluate`` would open a fault now (used to re-check a stale parent first)."""
    return any(
        kind not in open_now and streak.bad >= _open_after(state, kind)
        for kind, streak in state.streaks.items()
        if kind in state.conditions
    )


def evaluate(
    state: DeviceState,
    open_now: Mapping[str, OpenFault],
    suppression: Suppression | None,
    now: float,
) -> Changes:
    """Open, close and re-mark one device's faults after a cycle (``None``: nothing
    suppresses them)."""
    device = state.device
    suppression = suppression or UNSUPPRESSED
    changes = Changes()
    for kind, streak in state.streaks.items():
        fault = open_now.get(kind)
        if fault is None:
            if kind in state.conditions and streak.bad >= _open_after(state, kind):
                changes.opened.append(
                    OpenFault(
                        device.id, device.county, device.kind, kind, streak.since, now,
                        suppression.mark(streak.since), describe(state, kind),
                    )
                )
        elif kind not in state.conditions and streak.good >= _close_after(state, kind):
            changes.closed.append((fault, RECOVERED))
        elif fault.suppressed_by != (mark := suppression.mark(fault.first_seen)):
            fault.suppressed_by = mark
            changes.updated.append(fault)
    return changes


def _open_after(state: DeviceState, kind: str) -> int:
    """Cycles (samples, for a sampled condition) in a row before the fault opens: a video
    sample and the resample that confirms it; flapping (a windowed judgement) at once."""
    if kind == Fault.FLAPPING:
        return 1
    return 2 if kind == Fault.NO_VIDEO else state.device.open_after


def _close_after(state: DeviceState, kind: str) -> int:
    """Cycles without the condition before the fault closes; one good sample for a sampled
    condition (the picture, or the clock, was seen right)."""
    return 1 if kind in SAMPLED_KINDS else state.device.close_after


def sample_detail(state: DeviceState, kind: str) -> str:
    """What the latest sample behind a sampled fault measured, in a few words."""
    for name, result in state.samples.items():
        check = state.device.check(name)
        if check is None or SAMPLED_FAULTS.get(check.probe) != kind:
            continue
        if not result.success:
            return f"{name}: {result.reason}" + (f" ({result.detail})" if result.detail else "")
        figures = result.measurements
        if kind == Fault.CLOCK_DRIFT:
            offset = figures.get(Measurement.CLOCK_OFFSET_SECONDS, 0.0)
            return (f"{name}: clock offset {offset:+.0f} s (limit "
                    f"{state.device.thresholds.clock_offset_seconds:g} s)")
        moving = "advancing" if figures.get(Measurement.TIMESTAMPS_ADVANCING) else "frozen"
        key = {0: "no", 1: "yes"}.get(int(figures.get(Measurement.KEYFRAME, -1)), "unknown")
        return (f"{name}: {figures.get(Measurement.VIDEO_PACKETS, 0):.0f} RTP packets, "
                f"key frame {key}, timestamps {moving}")
    return kind


def describe(state: DeviceState, kind: str) -> str:
    """The evidence for a fault in a few words: failed checks and their reasons, or figures."""
    verdict = state.verdict
    if kind == Fault.FLAPPING:
        window = min(state.history_len, state.device.thresholds.flap_window)
        return f"{state.state_changes()} up/down changes in the last {window} cycles"
    if kind == Fault.DEGRADED_LINK:
        return "; ".join(state.link_reasons()) or kind
    if kind in SAMPLED_KINDS:
        return sample_detail(state, kind)
    if verdict is not None and verdict.fault == kind and verdict.reasons:
        details = [
            f"{name}: {r.reason} ({r.detail})" if r.detail else f"{name}: {r.reason}"
            for name, r in state.results.items()
            if not r.success
        ]
        return "; ".join(details) or "; ".join(verdict.reasons)
    if verdict is not None and verdict.reasons:
        return "; ".join(verdict.reasons)
    return kind
