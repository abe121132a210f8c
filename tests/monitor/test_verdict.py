"""One sweep's results point to the right fault kind, worst first."""

from __future__ import annotations

import pytest

from netwatch.inventory import CheckSpec, Device, Thresholds
from netwatch.monitor import judge
from probes.base import ProbeResult, Reason


def dev(kind: str, *checks: tuple[str, str]) -> Device:
    return Device(
        id="d1", kind=kind, county="c1", address="127.105.1.1", name="d1",
        checks=tuple(CheckSpec(name, probe, 0, None) for name, probe in checks),
        interval=30.0, timeout=1.0, thresholds=Thresholds(),
    )


OK = ProbeResult.ok()
DOWN = ProbeResult.fail(Reason.TIMEOUT, "no reply")
SITE = dev("trunking_site", ("icmp", "icmp"), ("snmp", "snmp"))
VC = dev("vc_endpoint", ("icmp", "icmp"), ("sip", "sip"))


def snmp(status: float = 1, speed: float = 1e9) -> ProbeResult:
    return ProbeResult.ok(uplink_oper_status=status, uplink_speed_bps=speed)


def ping(rtt: float = 0.001, loss: float = 0.0, jitter: float = 0.0) -> ProbeResult:
    return ProbeResult.ok(rtt_seconds=rtt, loss_ratio=loss, jitter_seconds=jitter)


@pytest.mark.parametrize(
    ("device", "results", "up", "fault"),
    [
        (SITE, {"icmp": OK, "snmp": snmp()}, True, None),
        (SITE, {"icmp": DOWN, "snmp": DOWN}, False, "unreachable"),
        (SITE, {"icmp": OK, "snmp": DOWN}, False, "service_down"),
        (SITE, {"icmp": OK, "snmp": snmp(status=2)}, True, "uplink_down"),
        (SITE, {"icmp": OK, "snmp": snmp(speed=1e8)}, True, "uplink_slow"),
        (SITE, {"icmp": OK, "snmp": snmp(status=2, speed=1e8)}, True, "uplink_down"),
        (VC, {"icmp": ping(rtt=0.35), "sip": OK}, True, "degraded_link"),
        (VC, {"icmp": ping(loss=0.4), "sip": OK}, True, "degraded_link"),
        (VC, {"icmp": ping(jitter=0.05), "sip": OK}, True, "degraded_link"),
        (VC, {"icmp": ping(rtt=0.29, loss=0.0, jitter=0.01), "sip": OK}, True, None),
        (VC, {"icmp": ping(rtt=0.35), "sip": DOWN}, False, "service_down"),
        (dev("camera", ("icmp", "icmp")), {"icmp": ping(rtt=0.5)}, True, None),
    ],
)
def test_fault_kind(device: Device, results: dict[str, ProbeResult], up: bool,
                    fault: str | None) -> None:
    """Each combination of check results maps to one fault kind (or none)."""
    verdict = judge(device, results)
    assert (verdict.up, verdict.fault) == (up, fault)


def test_findings_are_collected() -> None:
    """An open RTSP stream is reported as a finding, not as an outage."""
    rtsp = ProbeResult.ok(status_code=200)
    rtsp.findings = ("open_stream",)
    verdict = judge(dev("camera", ("icmp", "icmp"), ("rtsp", "rtsp")), {"icmp": OK, "rtsp": rtsp})
    assert verdict.up and verdict.fault is None and verdict.findings == ("open_stream",)
