"""What each lab fault is, and what the monitor should see because of it.

``FAULTS`` lists the fault kinds a scenario may name, what each needs from a device
and which settings it takes. ``effective_faults`` adds what the network does on its
own: the children of an unreachable or flapping device (``parent`` tree) share its
fate. ``expected_faults`` says which fault one ``netwatch probe`` sweep should report
for every device; the markers in ``OUTCOMES`` stand for "any of these", and
``accepts`` compares a sweep's fault with an expectation.

Two vocabularies meet here: ``Injected`` names what the lab does to a device (a
scenario's ``fault:``), ``netwatch.vocab.Fault`` what the monitor should conclude.
Some share a word (``unreachable``) but not a meaning (``degraded`` may or may not
become ``degraded_link``; ``rtsp_503`` becomes ``service_down``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from netwatch.inventory import Device, Inventory
from netwatch.vocab import Fault as Opened


class Injected(StrEnum):
    """A fault the lab can inject, as a scenario file names it."""

    UNREACHABLE = "unreachable"  # every packet to the device dropped
    FLAPPING = "flapping"  # unreachable and back every ``period``
    SERVICE_DOWN = "service_down"  # some service checks' ports closed
    SIP_SILENT = "sip_silent"
    RTSP_401 = "rtsp_401"
    RTSP_503 = "rtsp_503"
    OPEN_STREAM = "open_stream"  # RTSP serves the stream without credentials
    NO_VIDEO = "no_video"  # PLAY is answered, no RTP packet follows
    VIDEO_FROZEN = "video_frozen"  # RTP packets keep coming with one repeated timestamp
    VIDEO_STOPS = "video_stops"  # a fifth of a second of video after PLAY, then nothing
    UPLINK_DOWN = "uplink_down"  # the SNMP agent reports the uplink down
    UPLINK_SLOW = "uplink_slow"
    SNMP_TIMEOUT = "snmp_timeout"
    REBOOTED = "rebooted"  # the SNMP agent's uptime restarts every ``period``
    SNMP_ERRORS = "snmp_errors"  # the uplink's error counters grow by ``errors`` every ``period``
    DEGRADED = "degraded"  # echoes delayed and/or dropped (the loss in ``steps`` over time)
    CLOCK_OFFSET = "clock_offset"  # the camera's ONVIF clock runs ``offset`` seconds ahead


SERVICE_PROBES = frozenset({"tcp", "http", "rtsp", "sip", "snmp", "video", "onvif_time"})
FLAPPING = Opened.FLAPPING  # marker: the sweep may catch the device up or down
MAYBE_DEGRADED = "degraded_link?"  # marker: random loss may or may not show in one sweep
OUTCOMES: Mapping[str, frozenset[str | None]] = {
    FLAPPING: frozenset({None, Opened.UNREACHABLE, Opened.SERVICE_DOWN, Opened.DEGRADED_LINK}),
    MAYBE_DEGRADED: frozenset({None, Opened.DEGRADED_LINK}),
}


@dataclass(frozen=True, slots=True)
class FaultKind:
    """What a fault needs from a device and which settings it takes."""

    needs: frozenset[str]  # probes of which the device must have one; empty: any device
    settings: frozenset[str] = frozenset()


FAULTS: Mapping[str, FaultKind] = {
    Injected.UNREACHABLE: FaultKind(frozenset()),
    Injected.FLAPPING: FaultKind(frozenset(), frozenset({"period"})),
    Injected.SERVICE_DOWN: FaultKind(SERVICE_PROBES, frozenset({"check"})),
    Injected.SIP_SILENT: FaultKind(frozenset({"sip"})),
    Injected.RTSP_401: FaultKind(frozenset({"rtsp", "video"})),
    Injected.RTSP_503: FaultKind(frozenset({"rtsp", "video"})),
    Injected.OPEN_STREAM: FaultKind(frozenset({"rtsp"})),
    Injected.NO_VIDEO: FaultKind(frozenset({"video"})),
    Injected.VIDEO_FROZEN: FaultKind(frozenset({"video"})),
    Injected.VIDEO_STOPS: FaultKind(frozenset({"video"})),
    Injected.UPLINK_DOWN: FaultKind(frozenset({"snmp"})),
    Injected.UPLINK_SLOW: FaultKind(frozenset({"snmp"}), frozenset({"speed"})),
    Injected.SNMP_TIMEOUT: FaultKind(frozenset({"snmp"})),
    Injected.REBOOTED: FaultKind(frozenset({"snmp"}), frozenset({"period"})),
    Injected.SNMP_ERRORS: FaultKind(frozenset({"snmp"}), frozenset({"period", "errors"})),
    Injected.DEGRADED: FaultKind(frozenset({"icmp"}),
                                 frozenset({"latency", "loss", "steps", "every"})),
    Injected.CLOCK_OFFSET: FaultKind(frozenset({"onvif_time"}), frozenset({"offset"})),
}


@dataclass(frozen=True, slots=True)
class Fault:
    """One device's fault with its settings; ``source`` says where it comes from."""

    kind: str
    source: str  # "FILE:LINE" of the rule, or "parent ID" for a cascade
    latency: float = 0.0  # seconds added to each echo (degraded)
    loss: float = 0.0  # ratio of echo requests dropped (degraded)
    period: float = 0.0  # seconds between toggles (flapping), reboots (rebooted) or
    # error bursts (snmp_errors)
    errors: int = 0  # errors added to ifInErrors and to ifOutErrors each period (snmp_errors)
    steps: tuple[float, ...] = ()  # loss ratios in turn, ``every`` apart (degraded; the last
    every: float = 0.0  # stays); ``loss`` is the first
    speed_bps: float = 0.0  # negotiated uplink speed (uplink_slow)
    checks: tuple[str, ...] = ()  # check names closed (service_down)
    offset: float = 0.0  # seconds the ONVIF clock is ahead, negative: behind (clock_offset)


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
    for kind in (Injected.UNREACHABLE, Injected.FLAPPING):
        for root, fault in scenario.faults.items():
            if fault.kind != kind:
                continue
            stack = list(children.get(root, ()))
            while stack:
                child = stack.pop()
                existing = result.get(child)
                if existing is not None and existing.kind == Injected.UNREACHABLE:
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
    if fault.kind == Injected.FLAPPING:
        return FLAPPING
    failing = _failing_checks(device, fault)
    if failing and len(failing) == len(device.checks):
        return Opened.UNREACHABLE
    if failing:
        return Opened.SERVICE_DOWN
    if fault.kind == Injected.RTSP_401 and any(
            c.probe == "video" or getattr(c.params, "credentials", None) is not None
            for c in device.checks if c.probe in ("rtsp", "video")):
        return Opened.AUTH_FAILED  # the camera refuses the credentials the checks bring
    # no_video, video_frozen, video_stops: the video check succeeds with telling figures;
    # no fault until the monitor judges them
    if fault.kind == Injected.UPLINK_DOWN:
        return Opened.UPLINK_DOWN
    if fault.kind == Injected.UPLINK_SLOW:
        return Opened.UPLINK_SLOW if fault.speed_bps < device.thresholds.uplink_min_bps else None
    if fault.kind == Injected.DEGRADED and device.kind == "vc_endpoint":
        if fault.latency > device.thresholds.rtt_seconds:
            return Opened.DEGRADED_LINK
        if max((fault.loss, *fault.steps)) > device.thresholds.loss_ratio:
            return MAYBE_DEGRADED
    return None


def _failing_checks(device: Device, fault: Fault) -> set[str]:
    """Which of the device's checks fail under the fault."""
    probe_of = {c.name: c.probe for c in device.checks}
    by_kind: dict[str, set[str]] = {
        Injected.UNREACHABLE: set(probe_of.values()),
        Injected.SIP_SILENT: {"sip"},
        Injected.RTSP_503: {"rtsp", "video"},
        Injected.SNMP_TIMEOUT: {"snmp"},
    }
    failing_probes = by_kind.get(fault.kind, set())
    failing = {n for n, p in probe_of.items() if p in failing_probes}
    if fault.kind == Injected.SERVICE_DOWN:
        failing.update(fault.checks)
    if fault.kind == Injected.DEGRADED and fault.latency >= device.timeout:
        failing.update(n for n, p in probe_of.items() if p == "icmp")
    return failing
