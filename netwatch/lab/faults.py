"""What each lab fault is, and what the monitor should see because of it.

``FAULTS`` lists the fault kinds a scenario may name, what each needs from a device
and which settings it takes. ``effective_faults`` adds what the network does on its
own: the children of an unreachable or flapping device (``parent`` tree) share its
fate. ``expected_faults`` says which fault one ``netwatch probe`` sweep should report
for every device; the markers in ``OUTCOMES`` stand for "any of these", and
``accepts`` compares a sweep's fault with an expectation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netwatch.inventory import Device, Inventory

SERVICE_PROBES = frozenset({"tcp", "http", "rtsp", "sip", "snmp"})
FLAPPING = "flapping"  # marker: the sweep may catch the device up or down
MAYBE_DEGRADED = "degraded_link?"  # marker: random loss may or may not show in one sweep
OUTCOMES: Mapping[str, frozenset[str | None]] = {
    FLAPPING: frozenset({None, "unreachable", "service_down", "degraded_link"}),
    MAYBE_DEGRADED: frozenset({None, "degraded_link"}),
}


@dataclass(frozen=True, slots=True)
class FaultKind:
    """What a fault needs from a device and which settings it takes."""

    needs: frozenset[str]  # probes of which the device must have one; empty: any device
    settings: frozenset[str] = frozenset()


FAULTS: Mapping[str, FaultKind] = {
    "unreachable": FaultKind(frozenset()),
    "flapping": FaultKind(frozenset(), frozenset({"period"})),
    "service_down": FaultKind(SERVICE_PROBES, frozenset({"check"})),
    "sip_silent": FaultKind(frozenset({"sip"})),
    "rtsp_401": FaultKind(frozenset({"rtsp"})),
    "rtsp_503": FaultKind(frozenset({"rtsp"})),
    "open_stream": FaultKind(frozenset({"rtsp"})),
    "uplink_down": FaultKind(frozenset({"snmp"})),
    "uplink_slow": FaultKind(frozenset({"snmp"}), frozenset({"speed"})),
    "snmp_timeout": FaultKind(frozenset({"snmp"})),
    "rebooted": FaultKind(frozenset({"snmp"}), frozenset({"period"})),
    "degraded": FaultKind(frozenset({"icmp"}), frozenset({"latency", "loss"})),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One device's fault with its settings; ``source`` says where it comes from."""

    kind: str
    source: str  # "FILE:LINE" of the rule, or "parent ID" for a cascade
    latency: float = 0.0  # seconds added to each echo (degraded)
    loss: float = 0.0  # ratio of echo requests dropped (degraded)
    period: float = 0.0  # seconds between toggles (flapping) or reboots (rebooted)
    speed_bps: float = 0.0  # negotiated uplink speed (uplink_slow)
    checks: tuple[str, ...] = ()  # check names closed (service_down)


@dataclass(frozen=True, slots=True)
class Scenario:
    """The faults a scenario file assigns, by device id, in inventory order."""

    path: str
    faults: Mapping[str, Fault] = field(default_factory=dict)


def effective_faults(inventory: Inventory, scenario: Scenario) -> dict[str, Fault]:
    """The scenario's faults plus their cascades down the ``parent`` tree."""
    children: dict[str, list[str]] = {}
    for d in inventory.devices:
        if d.parent is not None:
            children.setdefault(d.parent, []).append(d.id)
    result = dict(scenario.faults)
    # unreachable first, so that it wins over a flapping cascade on the same subtree
    for kind in ("unreachable", "flapping"):
        for root, fault in scenario.faults.items():
            if fault.kind != kind:
                continue
            stack = list(children.get(root, ()))
            while stack:
                child = stack.pop()
                existing = result.get(child)
                if existing is not None and existing.kind == "unreachable":
                    continue  # already down, and its own subtree follows it
                result[child] = Fault(kind, f"parent {root}", period=fault.period)
                stack.extend(children.get(child, ()))
    order = {d.id: i for i, d in enumerate(inventory.devices)}
    return dict(sorted(result.items(), key=lambda kv: order[kv[0]]))


def expected_faults(inventory: Inventory, scenario: Scenario) -> dict[str, str | None]:
    """The fault one sweep should report per device; markers in ``OUTCOMES`` allow several."""
    faults = effective_faults(inventory, scenario)
    return {d.id: _expected(d, faults.get(d.id)) for d in inventory.devices}


def accepts(expected: str | None, actual: str | None) -> bool:
    """Whether a sweep's fault matches an ``expected_faults`` entry (markers included)."""
    allowed = OUTCOMES.get(expected) if expected is not None else None
    return actual in allowed if allowed is not None else expected == actual


def _expected(device: Device, fault: Fault | None) -> str | None:
    if fault is None:
        return None
    if fault.kind == "flapping":
        return FLAPPING
    failing = _failing_checks(device, fault)
    if failing and len(failing) == len(device.checks):
        return "unreachable"
    if failing:
        return "service_down"
    if fault.kind == "uplink_down":
        return "uplink_down"
    if fault.kind == "uplink_slow":
        return "uplink_slow" if fault.speed_bps < device.thresholds.uplink_min_bps else None
    if fault.kind == "degraded" and device.kind == "vc_endpoint":
        if fault.latency > device.thresholds.rtt_seconds:
            return "degraded_link"
        if fault.loss > device.thresholds.loss_ratio:
            return MAYBE_DEGRADED
    return None


def _failing_checks(device: Device, fault: Fault) -> set[str]:
    """Which of the device's checks fail under the fault."""
    probe_of = {c.name: c.probe for c in device.checks}
    failing_probes = {
        "unreachable": set(probe_of.values()),
        "sip_silent": {"sip"},
        "rtsp_503": {"rtsp"},
        "snmp_timeout": {"snmp"},
    }.get(fault.kind, set())
    failing = {n for n, p in probe_of.items() if p in failing_probes}
    if fault.kind == "service_down":
        failing.update(fault.checks)
    if fault.kind == "degraded" and fault.latency >= device.timeout:
        failing.update(n for n, p in probe_of.items() if p == "icmp")
    return failing
