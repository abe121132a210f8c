"""Notice candidates from fault episodes: which open faults become items, and how severe.

An open episode is a candidate when its device is still in the inventory, the
fault is not suppressed (a failing parent, a maintenance window or an outage the county
declared, 停机报备, that began before the fault was first seen) and it has
been failing longer than the device's grace period (from its first-seen time).
A parent's outage item counts the devices whose faults it suppresses.

Severity rule (docs/notices.md, 'Items and their severity'):
- critical: an outage (unreachable, service_down, uplink_down) of a trunking site,
  of a camera in a key area, or of any device whose outage took others down;
- major: any other outage, ``no_video`` (a camera that answers but shows no picture is
  as useless as a dead one) and ``open_stream`` (a camera serving video without
  credentials: a security item);
- minor: everything else (uplink_slow, degraded_link, flapping, rebooted, auth_failed,
  clock_drift).

``auth_failed`` (the device refused our credentials: a wrong SNMP key, HTTP 401/403)
is the city's own configuration to fix, not the county's: it becomes an item only
when ``notices.auth_failed_items`` says so, and is otherwise shown on the faults API
and the dashboards only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from netwatch.inventory import Device, Inventory
from netwatch.monitor import planned
from netwatch.notices.evidence import facts
from netwatch.notices.record import Candidate
from netwatch.store import Episode
from netwatch.vocab import OUTAGE_PROBLEMS, Fault, Problem

SECURITY: frozenset[Problem] = frozenset({Problem.OPEN_STREAM})
MAJOR: frozenset[Problem] = SECURITY | {Problem.NO_VIDEO}  # major whatever the device
SUPPRESSING_FAULT = Fault.UNREACHABLE  # the parent fault that suppresses children (faults.py)


def severity(device: Device, problem: str, suppressed_children: int) -> str:
    """The module docstring's rule."""
    if problem in OUTAGE_PROBLEMS:
        if device.kind == "trunking_site" or suppressed_children or (
                device.kind == "camera" and device.key_area):
            return "critical"
        return "major"
    return "major" if problem in MAJOR else "minor"


def location(device: Device) -> str:
    """The site name, else the coordinates, else nothing."""
    if device.site:
        return device.site
    if device.lat is not None and device.lon is not None:
        return f"{device.lat:.5f}, {device.lon:.5f}"
    return ""


def children_down(episodes: Iterable[Episode]) -> dict[str, int]:
    """Per parent device, how many distinct devices its failure suppresses now (planned work,
    maintenance or a declared outage, suppresses as no parent)."""
    children: dict[str, set[str]] = defaultdict(set)
    for ep in episodes:
        if ep.suppressed_by is not None and not planned(ep.suppressed_by):
            children[ep.suppressed_by].add(ep.device)
    return {parent: len(devices) for parent, devices in children.items()}


def episode_candidates(episodes: Sequence[Episode], inventory: Inventory,
                       now: float) -> list[Candidate]:
    """The open episodes that are notice items now (see the module docstring)."""
    devices = inventory.by_id()
    counts = children_down(episodes)
    out: list[Candidate] = []
    for ep in episodes:
        device = devices.get(ep.device)
        if device is None or ep.closed_at is not None or ep.suppressed_by is not None:
            continue
        if now - ep.first_seen < device.grace_seconds:
            continue
        if ep.fault == Fault.AUTH_FAILED and not inventory.notices.auth_failed_items:
            continue
        children = counts.get(device.id, 0) if ep.fault == SUPPRESSING_FAULT else 0
        out.append(Candidate(
            subject_type="device", subject=device.id, county=device.county, problem=ep.fault,
            name=device.name, kind=device.kind, location=location(device),
            first_seen=ep.first_seen, severity=severity(device, ep.fault, children),
            rectify_within_days=device.rectify_within_days,
            evidence={**ep.evidence, "detail": ep.detail, **facts(device, ep.evidence)},
            episode_id=ep.id,
            suppressed_children=children,
        ))
    return out
