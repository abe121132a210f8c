"""The monitor: checks run, results judged, per-device state kept, faults opened and closed.

``runner`` is the only caller of probes (deadlines, caps, the ``allowlist``);
``sweep`` runs one on demand; ``capacity`` weighs the load an inventory asks for
against the rate settings; ``slices`` gives the loop a turn while walking the fleet;
``verdict`` turns one sweep's results into up or a fault kind; ``state`` keeps what a
device's recent results say; ``faults`` decides (pure) when a fault opens, closes or is
suppressed; ``monitor`` owns all of it between cycles; ``writes`` records its fault
changes in the store, in order, through the database thread (kept while the store is
away); ``watched`` records what was watched and when (first checks, monitoring gaps);
``leases`` says which instance writes for which county (per-county leases in the
database, fencing, the gaps of a takeover); ``ownership`` is this instance's share of
them and how it probes the counties it stands by for; ``status`` writes each device's
state changes to the store, so any instance answers for every county; ``sampling``
runs the checks taken now and then (a camera's video, a device's clock) and says what a
sample shows; ``trends`` raises early warnings (预警) from each device's trends against
its own baselines, and keeps both in the store; ``declared`` keeps the outages the
counties declare (停机报备) and their audit trail, the rules for declaring, shortening,
ending and cancelling them, and the monitor's view of those live now.
"""

from __future__ import annotations

from netwatch.monitor.allowlist import AllowList
from netwatch.monitor.capacity import Capacity, CapacityError, Load, assess, problems
from netwatch.monitor.declared import (
    REASONS,
    Actor,
    AuditEntry,
    Declaration,
    DeclaredView,
    Refusal,
    Refused,
    Wanted,
    audit_trail,
    cancel_declaration,
    declaration,
    declarations_within,
    declare,
    declared_id,
    declared_mark,
    declared_totals,
    end_declaration,
    find_declarations,
    shorten_declaration,
)
from netwatch.monitor.faults import MAINTENANCE, OpenFault, planned
from netwatch.monitor.leases import (
    DUTIES,
    LEASE_TTL,
    RENEW_EVERY,
    Claim,
    Fenced,
    Lease,
    claim,
    gaps_within,
    lapse_all,
    leases,
    release,
)
from netwatch.monitor.monitor import Group, GroupListener, GroupStats, Monitor
from netwatch.monitor.ownership import Ownership, Shadow
from netwatch.monitor.runner import DeviceResult, Runner
from netwatch.monitor.sampling import CLOCK, SAMPLED, SAMPLED_FAULTS, VIDEO, HostClock
from netwatch.monitor.slices import in_slices
from netwatch.monitor.state import FAULT_KINDS, DeviceState
from netwatch.monitor.status import (
    DeviceStatus,
    StatusWriter,
    read_status,
    status_words,
    write_status,
)
from netwatch.monitor.sweep import sweep_once
from netwatch.monitor.trends import Raised, StoredWarning, Trends, current_warnings
from netwatch.monitor.verdict import Verdict, judge
from netwatch.monitor.watched import (
    Gap,
    county_gap_seconds,
    gap_totals,
    monitored_since,
    record_first_checks,
    record_gap,
)

__all__ = [
    "CLOCK", "DUTIES", "FAULT_KINDS", "LEASE_TTL", "MAINTENANCE", "RENEW_EVERY", "SAMPLED",
    "SAMPLED_FAULTS", "VIDEO", "AllowList", "Capacity", "CapacityError", "Claim", "DeviceResult",
    "DeviceState", "DeviceStatus", "Fenced", "Gap", "Group", "GroupListener", "GroupStats",
    "HostClock", "Lease", "Load", "Monitor", "OpenFault", "Ownership", "Runner", "Shadow",
    "StatusWriter", "Verdict", "assess", "claim", "county_gap_seconds", "gap_totals",
    "gaps_within", "in_slices", "judge", "lapse_all", "leases", "monitored_since", "problems",
    "read_status", "record_first_checks", "record_gap", "release", "status_words", "sweep_once",
    "write_status",
    "Raised", "StoredWarning", "Trends", "current_warnings",  # early warnings (trends)
    "REASONS", "Actor", "AuditEntry", "Declaration", "DeclaredView", "Refusal",  # declared
    "Refused", "Wanted", "audit_trail", "cancel_declaration", "declaration",
    "declarations_within", "declare", "declared_id", "declared_mark", "declared_totals",
    "end_declaration", "find_declarations", "shorten_declaration", "planned",
]
