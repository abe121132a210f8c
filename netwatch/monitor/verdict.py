"""What one sweep's results say about a device: up or not, and which fault they point to.

Pure: device settings + check results in, a verdict out. The daemon applies
hysteresis and windows on top of these per-cycle verdicts; ``netwatch probe``
prints them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netwatch.inventory import Device
from netwatch.vocab import Fault, Measurement, Reason
from probes.base import ProbeResult

UPLINK_UP = 1  # IF-MIB ifOperStatus up(1)


@dataclass(frozen=True, slots=True)
class Verdict:
    up: bool  # every check passed (a refused credential aside: the device works)
    fault: Fault | None  # unreachable, service_down, auth_failed, uplink_*, degraded_link
    findings: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()  # short human explanations, for tables


def judge(device: Device, results: Mapping[str, ProbeResult]) -> Verdict:
    """Turn one sweep's results into a verdict, worst fault first.

    A skipped check (``ProbeResult.skipped``) leaves the device unjudged: not up, no
    fault. The monitor never records such a cycle; ``netwatch probe`` shows it as is.
    """
    # one pass: at city scale this runs ~100,000 times per sweep, almost all checks ok
    found: set[str] = set()
    failed: list[str] = []
    skipped: list[str] = []
    for name, r in results.items():
        if r.findings:
            found.update(r.findings)
        if r.reason is Reason.OK:  # the usual case: neither skipped nor failed
            if not r.success:
                failed.append(name)
        elif r.skipped:
            skipped.append(name)
        elif not r.success:
            failed.append(name)
    findings = tuple(sorted(found)) if found else ()
    if skipped:  # the monitor's own limits: no verdict on the device either way
        why = tuple(f"{n}: not checked ({results[n].reason})" for n in skipped)
        return Verdict(False, None, findings, why)
    # a refused credential is an answer: the device is alive, its settings disagree with
    # ours; it is no outage (online rates, the device-up metric) but a fault of its own
    refused = [name for name in failed if results[name].reason is Reason.AUTH]
    failed = [name for name in failed if name not in refused]
    up = bool(results) and not failed
    if results and len(failed) == len(results):
        return Verdict(False, Fault.UNREACHABLE, findings, ("no check answered",))
    if failed:
        why = tuple(f"{n}: {results[n].reason}" for n in failed)
        return Verdict(up, Fault.SERVICE_DOWN, findings, why)
    if refused:
        return Verdict(up, Fault.AUTH_FAILED, findings, tuple(f"{n}: auth" for n in refused))
    fault, why = uplink_problem(device, results) or _link_quality(device, results) or (None, ())
    if up and fault is None and not findings:
        return UP  # immutable, so one shared value serves every healthy device
    return Verdict(up, fault, findings, why)


UP = Verdict(True, None)  # every check passed, nothing found
Finding = tuple[Fault, tuple[str, ...]]


def uplink_problem(device: Device, results: Mapping[str, ProbeResult]) -> Finding | None:
    """``uplink_down`` or ``uplink_slow`` with the reason, from the SNMP check's figures."""
    for check in device.checks:
        result = results.get(check.name)
        if check.probe != "snmp" or result is None:
            continue
        m = result.measurements
        status = m.get(Measurement.UPLINK_OPER_STATUS)
        if status is not None and status != UPLINK_UP:
            return Fault.UPLINK_DOWN, (f"uplink ifOperStatus {int(status)}",)
        speed = m.get(Measurement.UPLINK_SPEED_BPS)
        if speed is not None and speed < device.thresholds.uplink_min_bps:
            return Fault.UPLINK_SLOW, (f"uplink {speed / 1e6:g} Mbit/s",)
    return None


def link_problems(device: Device, rtt: float, loss: float, jitter: float) -> tuple[str, ...]:
    """Which of RTT, loss and jitter exceed the device's thresholds, in words."""
    t = device.thresholds
    why = []
    if rtt > t.rtt_seconds:
        why.append(f"RTT {rtt * 1000:.0f} ms > {t.rtt_seconds * 1000:.0f} ms")
    if loss > t.loss_ratio:
        why.append(f"loss {loss:.0%} > {t.loss_ratio:.0%}")
    if jitter > t.jitter_seconds:
        why.append(f"jitter {jitter * 1000:.0f} ms > {t.jitter_seconds * 1000:.0f} ms")
    return tuple(why)


def _link_quality(device: Device, results: Mapping[str, ProbeResult]) -> Finding | None:
    if device.kind != "vc_endpoint":
        return None
    for check in device.checks:
        result = results.get(check.name)
        if check.probe != "icmp" or result is None:
            continue
        m = result.measurements
        rtt, jitter = m.get(Measurement.RTT_SECONDS, 0.0), m.get(Measurement.JITTER_SECONDS, 0.0)
        why = link_problems(device, rtt, m.get(Measurement.LOSS_RATIO, 0.0), jitter)
        if why:
            return Fault.DEGRADED_LINK, why
    return None
