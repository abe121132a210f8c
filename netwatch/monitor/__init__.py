"""The monitor: checks run, results judged, per-device state kept, faults opened and closed.

``runner`` is the only caller of probes (deadlines, caps, the ``allowlist``);
``sweep`` runs one on demand; ``capacity`` weighs the load an inventory asks for
against the rate settings; ``slices`` gives the loop a turn while walking the fleet;
``verdict`` turns one sweep's results into up or a fault kind; ``state`` keeps what a
device's recent results say; ``faults`` decides (pure) when a fault opens, closes or is
suppressed; ``monitor`` owns all of it between cycles; ``writes`` records its fault
changes in the store, in order, through the database thread (kept while the store is
away); ``watched`` records what was watched and when (first checks, heartbeats,
monitoring gaps).
"""

from __future__ import annotations

from netwatch.monitor.allowlist import AllowList
from netwatch.monitor.capacity import Capacity, CapacityError, Load, assess, problems
from netwatch.monitor.faults import MAINTENANCE, OpenFault
from netwatch.monitor.monitor import Group, GroupListener, GroupStats, Monitor
from netwatch.monitor.runner import DeviceResult, Runner
from netwatch.monitor.slices import in_slices
from netwatch.monitor.state import FAULT_KINDS, DeviceState
from netwatch.monitor.sweep import sweep_once
from netwatch.monitor.verdict import Verdict, judge
from netwatch.monitor.watched import (
    HEARTBEAT_SECONDS,
    Gap,
    beat,
    gap_totals,
    gaps_within,
    monitored_since,
    record_first_checks,
    resume_watching,
    stop_watching,
)

__all__ = [
    "FAULT_KINDS", "HEARTBEAT_SECONDS", "MAINTENANCE", "AllowList", "Capacity", "CapacityError",
    "DeviceResult", "DeviceState", "Gap", "Group", "GroupListener", "GroupStats", "Load",
    "Monitor", "OpenFault", "Runner", "Verdict", "assess", "beat", "gap_totals", "gaps_within",
    "in_slices", "judge", "monitored_since", "problems", "record_first_checks",
    "resume_watching", "sweep_once", "stop_watching",
]
