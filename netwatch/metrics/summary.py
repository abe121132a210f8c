"""Families computed at scrape time from small data: open faults, per-county figures, sweeps.

These read the monitor as it is at the scrape (no probe is ever waited on):
open faults number in the thousands at worst, counties × kinds in the dozens,
groups in the tens; the per-county pass over devices is one loop of attribute reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from netwatch.inventory import KINDS, Inventory, MaintenanceWindow
from netwatch.metrics.devices import CYCLE, DeviceLabels, device_body
from netwatch.metrics.text import Family, FamilySpec, label_body, labels
from netwatch.monitor import (
    DeviceState,
    Group,
    GroupListener,
    GroupStats,
    Load,
    OpenFault,
    planned,
)
from netwatch.store import StoreStatus
from probes.base import SKIP_REASONS

SKIP_LABELS = tuple(sorted(r.value for r in SKIP_REASONS))

FAULT_OPEN = FamilySpec(
    "netwatch_fault_open", "gauge",
    "1 per open fault (after hysteresis); suppressed=\"true\" under a failing parent, in "
    "maintenance or a declared outage. Alert on suppressed=\"false\".")
FAULT_SINCE = FamilySpec(
    "netwatch_fault_since_timestamp_seconds", "gauge",
    "When the failure that opened the fault was first seen (Unix time); kept across restarts.")
SUPPRESSED_CHILDREN = FamilySpec(
    "netwatch_fault_suppressed_children", "gauge",
    "Child devices whose open faults are suppressed because this parent is failing.")
ONLINE = FamilySpec(
    "netwatch_online_ratio", "gauge",
    f"Devices up ÷ devices expected per county and kind, {CYCLE}; devices in maintenance "
    "or a declared outage are left out, devices under a failing parent count as down, "
    "devices not probed yet are left out (NaN when none is expected).")
ONLINE_TARGET = FamilySpec(
    "netwatch_online_target_ratio", "gauge",
    "The online-rate target per kind from the inventory's notice settings (what the county "
    "assessment and the notices measure netwatch_online_ratio against).")
OPEN_FAULTS = FamilySpec(
    "netwatch_open_faults", "gauge", "Open faults that are not suppressed, per county and kind.")
DEVICES = FamilySpec("netwatch_devices", "gauge", "Devices in the inventory per county and kind.")
IN_MAINTENANCE = FamilySpec(
    "netwatch_devices_in_maintenance", "gauge",
    "Devices inside planned work now, per county, kind and source: inventory (a maintenance "
    "window) or county (an outage the county declared, 停机报备); a device in both counts "
    "once, as inventory. Sum over source for the devices out of the online ratio.")
SOURCES = ("inventory", "county")  # the source label of netwatch_devices_in_maintenance

SWEEP_DURATION = FamilySpec(
    "netwatch_sweep_duration_seconds", "gauge", "Wall time of the group's latest sweep.")
SWEEP_OVERRUNS = FamilySpec(
    "netwatch_sweep_overruns_total", "counter",
    "Sweeps that came due while the group's previous sweep was still running.")
SWEEP_RUNS = FamilySpec("netwatch_sweep_runs_total", "counter", "Completed sweeps of the group.")
SWEEP_LAST = FamilySpec(
    "netwatch_sweep_last_run_timestamp_seconds", "gauge",
    "When the group's latest sweep ended (Unix time); absent before the first one.")
SWEEP_TARGETS = FamilySpec("netwatch_sweep_targets", "gauge", "Devices in the group.")
SWEEP_INTERVAL = FamilySpec(
    "netwatch_sweep_interval_seconds", "gauge", "How often the group is swept.")
CHECKS_SKIPPED = FamilySpec(
    "netwatch_checks_skipped_total", "counter",
    "Checks the monitor's own limits kept from a verdict (engine_saturated, batch_overran, "
    "local_resources, check_overran), per device kind: no fault opened or closed for them. "
    "Any increase means the monitor, not a device, needs attention.")
MONITOR_DEGRADED = FamilySpec(
    "netwatch_monitor_degraded", "gauge",
    "1 while the monitor itself is unhealthy (checks skipped in a group's latest sweep, or an "
    "inventory over the capacity settings); /readyz lists why.")
CAPACITY_RATIO = FamilySpec(
    "netwatch_capacity_load_ratio", "gauge",
    "The rate the inventory asks for while its sweeps run ÷ the capacity setting, per "
    "resource (icmp_echoes, service_checks, snmp_gets); over 1 the settings cannot keep up.")
CAPACITY_WANTED = FamilySpec(
    "netwatch_capacity_wanted_per_second", "gauge",
    "The rate the inventory asks for while its sweeps run, per resource.")
CAPACITY_LIMIT = FamilySpec(
    "netwatch_capacity_limit_per_second", "gauge",
    "The capacity setting per resource (NETWATCH_ICMP_RATE, _SERVICE_RATE, _SNMP_RATE).")
STORE_UP = FamilySpec(
    "netwatch_store_up", "gauge",
    "1 while the store takes writes; 0 while it is away (locked past its timeout, read-only, "
    "the server gone, or a call stalled): /readyz answers 503, readings are refused with "
    "503, fault changes wait in memory.")
STORE_QUEUED = FamilySpec(
    "netwatch_store_queued_calls", "gauge",
    "Calls waiting for the database thread.")
STORE_REFUSED = FamilySpec(
    "netwatch_store_calls_refused_total", "counter",
    "Calls refused at once because the database thread's queue was full (answered 503, or "
    "retried later), never a device fault.")
STORE_FAILURES = FamilySpec(
    "netwatch_store_failures_total", "counter",
    "Calls and checks that found the store away.")
UNRECORDED = FamilySpec(
    "netwatch_fault_changes_unrecorded", "gauge",
    "Fault openings, re-markings and closings decided by the monitor and not yet written to "
    "the store (they wait in memory, in order, while it is away).")


class MonitorView(Protocol):
    """What these families read from ``netwatch.monitor.monitor.Monitor``."""

    inventory: Inventory
    states: dict[str, DeviceState]
    groups: dict[str, Group]
    stats: dict[str, GroupStats]
    listeners: list[GroupListener]
    skipped: dict[tuple[str, str], int]
    capacity: list[Load]

    @property
    def ready(self) -> bool: ...

    def health_problems(self) -> list[str]: ...

    def active(self, county: str) -> bool: ...

    @property
    def sampling(self) -> frozenset[str]: ...

    def open_faults(self) -> list[OpenFault]: ...

    def maintenance_now(self) -> list[MaintenanceWindow]: ...

    def declared_now(self) -> set[str]: ...

    def store_status(self) -> StoreStatus: ...

    @property
    def unrecorded(self) -> int: ...


def _body(by_device: Mapping[str, DeviceLabels], fault: OpenFault) -> str:
    lab = by_device.get(fault.device)
    return lab.body if lab is not None else device_body(fault.county, fault.kind, fault.device)


def fault_families(faults: list[OpenFault], by_device: Mapping[str, DeviceLabels],
                   parents: frozenset[str]) -> list[Family]:
    """One sample per open fault, and per parent the children it suppresses (zero-filled)."""
    is_open, since = Family(FAULT_OPEN), Family(FAULT_SINCE)
    children: dict[str, set[str]] = {p: set() for p in parents}
    for fault in faults:
        suppressed = "true" if fault.suppressed_by else "false"
        extra = label_body((("fault", fault.fault), ("suppressed", suppressed)))
        label_set = "{" + _body(by_device, fault) + "," + extra + "}"
        is_open.add(label_set, 1)
        since.add(label_set, fault.first_seen)
        if fault.suppressed_by and not planned(fault.suppressed_by):
            children.setdefault(fault.suppressed_by, set()).add(fault.device)
    counts = Family(SUPPRESSED_CHILDREN)
    for parent in sorted(children):
        lab = by_device.get(parent)
        if lab is not None:
            counts.add(lab.braced, len(children[parent]))
    return [is_open, since, counts]


def county_families(monitor: MonitorView) -> list[Family]:
    """Per county × kind, every combination present and zero-filled."""
    inventory = monitor.inventory
    kinds = list(KINDS) + sorted({d.kind for d in inventory.devices} - set(KINDS))
    counties = sorted(c for c in set(inventory.counties) | {d.county for d in inventory.devices}
                      if monitor.active(c))
    keys = [(c, k) for c in counties for k in kinds]
    devices = dict.fromkeys(keys, 0)
    expected = dict.fromkeys(keys, 0)
    up = dict.fromkeys(keys, 0)
    held = {source: dict.fromkeys(keys, 0) for source in SOURCES}
    windows = monitor.maintenance_now()
    declared = monitor.declared_now()
    for state in monitor.states.values():
        device = state.device
        key = (device.county, device.kind)
        if key not in devices:
            continue  # a county another instance is active for: its series are that one's
        devices[key] += 1
        if windows and any(w.matches(device) for w in windows):
            held["inventory"][key] += 1
            continue
        if device.id in declared:
            held["county"][key] += 1
            continue
        verdict = state.verdict
        if verdict is not None:
            expected[key] += 1
            if verdict.up:
                up[key] += 1
    open_faults = dict.fromkeys(keys, 0)
    states = monitor.states
    for fault in monitor.open_faults():
        if not fault.suppressed_by:
            current = states.get(fault.device)  # a reload may have moved it to another county
            key = ((current.device.county, current.device.kind) if current
                   else (fault.county, fault.kind))
            open_faults[key] = open_faults.get(key, 0) + 1
    families = [Family(ONLINE), Family(OPEN_FAULTS), Family(DEVICES), Family(IN_MAINTENANCE)]
    ratio, faults, count, maintained = families
    for key in sorted(open_faults):
        label_set = labels((("county", key[0]), ("kind", key[1])))
        n = expected.get(key, 0)
        ratio.add(label_set, up.get(key, 0) / n if n else float("nan"))
        faults.add(label_set, open_faults[key])
        count.add(label_set, devices.get(key, 0))
        for source in SOURCES:
            maintained.add(labels((("county", key[0]), ("kind", key[1]), ("source", source))),
                           held[source].get(key, 0))
    target = Family(ONLINE_TARGET)
    for kind, value in sorted(inventory.notices.online_targets.items()):
        if kind in kinds:  # "camera_key_area" is a notices detail, not a kind of device
            target.add(labels((("kind", kind),)), value)
    return [*families, target]


def sweep_families(groups: Mapping[str, Group], stats: Mapping[str, GroupStats]) -> list[Family]:
    """The monitor's own health per group: duration, runs, overruns, last run, size, interval."""
    families = [Family(spec) for spec in (SWEEP_DURATION, SWEEP_OVERRUNS, SWEEP_RUNS,
                                          SWEEP_LAST, SWEEP_TARGETS, SWEEP_INTERVAL)]
    duration, overruns, runs, last, targets, interval = families
    for key in sorted(groups):
        group, stat = groups[key], stats.get(key)
        label_set = labels((("group", key), ("kind", group.kind)))
        targets.add(label_set, len(group.devices))
        interval.add(label_set, group.interval)
        if stat is None:
            continue
        runs.add(label_set, stat.runs)
        overruns.add(label_set, stat.overruns)
        if stat.runs:
            duration.add(label_set, stat.last_duration)
            last.add(label_set, stat.last_run_at)
    return families


def health_families(monitor: MonitorView) -> list[Family]:
    """The monitor's own health: skipped checks, degraded, load against capacity."""
    skipped, degraded = Family(CHECKS_SKIPPED), Family(MONITOR_DEGRADED)
    kinds = sorted({d.kind for d in monitor.inventory.devices} | {k for k, _ in monitor.skipped})
    for kind in kinds:
        for reason in SKIP_LABELS:
            count = monitor.skipped.get((kind, reason), 0)
            skipped.add(labels((("kind", kind), ("reason", reason))), count)
    degraded.add("", 1 if monitor.health_problems() else 0)
    ratio, wanted, limit = Family(CAPACITY_RATIO), Family(CAPACITY_WANTED), Family(CAPACITY_LIMIT)
    for load in monitor.capacity:
        label_set = labels((("resource", load.resource),))
        ratio.add(label_set, load.ratio)
        wanted.add(label_set, load.wanted)
        limit.add(label_set, load.limit)
    return [skipped, degraded, ratio, wanted, limit]


def store_families(monitor: MonitorView) -> list[Family]:
    """The store as the database thread sees it, and the fault changes waiting for it."""
    status = monitor.store_status()
    up, queued, refused = Family(STORE_UP), Family(STORE_QUEUED), Family(STORE_REFUSED)
    failures, unrecorded = Family(STORE_FAILURES), Family(UNRECORDED)
    up.add("", 1 if status.up else 0)
    queued.add("", status.queued)
    refused.add("", status.refused)
    failures.add("", status.failures)
    unrecorded.add("", monitor.unrecorded)
    return [up, queued, refused, failures, unrecorded]
