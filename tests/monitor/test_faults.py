"""Per-device state and fault hysteresis: when faults open, close, and are suppressed."""

from __future__ import annotations

from dataclasses import replace

from netwatch.inventory import CheckSpec, Device, Thresholds
from netwatch.monitor import DeviceState
from netwatch.monitor.faults import (
    MAINTENANCE,
    RECOVERED,
    OpenFault,
    Suppression,
    evaluate,
    suppressor,
    would_open,
)
from probes.base import ProbeResult, Reason

CAMERA = Device(
    id="cam-1", kind="camera", county="c1", address="127.105.2.1", name="cam 1",
    checks=(CheckSpec("icmp", "icmp", 0, None), CheckSpec("rtsp", "rtsp", 554, None)),
    interval=60.0, timeout=1.0, parent="sw-1",
)
SWITCH = replace(CAMERA, id="sw-1", kind="switch", parent=None,
                 checks=(CheckSpec("icmp", "icmp", 0, None), CheckSpec("snmp", "snmp", 161, None)))
ENDPOINT = replace(CAMERA, id="vc-1", kind="vc_endpoint",
                   checks=(CheckSpec("icmp", "icmp", 0, None), CheckSpec("sip", "sip", 5060, None)))


def ping(ok: bool = True, rtt: float = 0.001, loss: float = 0.0) -> ProbeResult:
    if not ok:
        return ProbeResult.fail(Reason.TIMEOUT, "no reply to 5 echoes", loss_ratio=1.0)
    return ProbeResult.ok(rtt_seconds=rtt, loss_ratio=loss, jitter_seconds=0.0)


def camera_cycle(icmp: bool, rtsp: bool) -> dict[str, ProbeResult]:
    return {
        "icmp": ping(icmp),
        "rtsp": ProbeResult.ok(status_code=200) if rtsp else ProbeResult.fail(
            Reason.BAD_STATUS, "OPTIONS: 503 Service Unavailable", status_code=503),
    }


class Run:
    """Feeds cycles to one device and applies the fault changes like the monitor does."""

    def __init__(self, device: Device) -> None:
        self.state = DeviceState(device)
        self.open: dict[str, OpenFault] = {}
        self.closed: list[tuple[str, str, float]] = []
        self.t = 1000.0

    def cycle(self, results: dict[str, ProbeResult],
              suppressed_by: Suppression | None = None) -> None:
        self.t += 60.0
        self.state.record(results, self.t)
        changes = evaluate(self.state, self.open, suppressed_by, self.t)
        for fault in changes.opened:
            self.open[fault.fault] = fault
        for fault, reason in changes.closed:
            del self.open[fault.fault]
            self.closed.append((fault.fault, reason, self.t))


def test_unreachable_opens_after_three_cycles_with_first_seen() -> None:
    """Three failed cycles open `unreachable`; first-seen is the first failed cycle's time."""
    run = Run(CAMERA)
    run.cycle(camera_cycle(True, True))
    first_bad = run.t + 60.0
    for _ in range(2):
        run.cycle(camera_cycle(False, False))
    assert run.open == {}
    run.cycle(camera_cycle(False, False))
    fault = run.open["unreachable"]
    assert fault.first_seen == first_bad
    assert fault.opened_at == run.t
    assert "icmp: timeout" in fault.detail


def test_fault_closes_after_two_good_cycles_and_a_blip_resets() -> None:
    """A good cycle between failures resets the streak; two good cycles close an open fault."""
    run = Run(CAMERA)
    for up in (False, False, True, False, False):
        run.cycle(camera_cycle(up, up))
    assert run.open == {}
    run.cycle(camera_cycle(False, False))
    assert "unreachable" in run.open
    run.cycle(camera_cycle(True, True))
    assert "unreachable" in run.open
    run.cycle(camera_cycle(True, True))
    assert run.open == {}
    assert run.closed[-1][:2] == ("unreachable", RECOVERED)


def test_service_fault_is_not_closed_while_nothing_answers() -> None:
    """An open service_down is neither closed nor counted good while the device is unreachable."""
    run = Run(CAMERA)
    for _ in range(3):
        run.cycle(camera_cycle(True, False))
    assert set(run.open) == {"service_down"}
    for _ in range(4):
        run.cycle(camera_cycle(False, False))
    assert set(run.open) == {"service_down", "unreachable"}
    assert "503" in run.open["service_down"].detail


def test_degraded_link_is_judged_over_the_window() -> None:
    """One slow cycle in five does not make a link degraded; a sustained 350 ms RTT does."""
    run = Run(ENDPOINT)
    sip = ProbeResult.ok(status_code=200)
    for rtt in (0.35, 0.001, 0.001, 0.001, 0.001, 0.001):
        run.cycle({"icmp": ping(rtt=rtt), "sip": sip})
    assert "degraded_link" not in run.state.conditions
    for _ in range(7):
        run.cycle({"icmp": ping(rtt=0.35), "sip": sip})
    assert "degraded_link" in run.open
    assert "RTT" in run.open["degraded_link"].detail
    run.cycle({"icmp": ping(loss=0.4), "sip": sip})
    assert "degraded_link" in run.state.conditions


def test_flapping_opens_at_once_when_state_changes_too_often() -> None:
    """Five up/down changes within the window open `flapping` without waiting three cycles."""
    run = Run(CAMERA)
    for i in range(6):
        run.cycle(camera_cycle(i % 2 == 0, i % 2 == 0))
    assert "flapping" in run.open
    assert "5 up/down changes" in run.open["flapping"].detail


def test_suppression_marks_but_never_blocks() -> None:
    """A failing parent marks a child's fault suppressed; the fault still opens and closes."""
    parent = DeviceState(SWITCH)
    parent.record({"icmp": ping(False), "snmp": ProbeResult.fail(Reason.TIMEOUT, "no answer")},
                  10.0)
    by = suppressor(parent, in_maintenance=False)
    assert by.mark(0.0) == "sw-1"
    run = Run(CAMERA)
    for _ in range(3):
        run.cycle(camera_cycle(False, False), suppressed_by=by)
    assert run.open["unreachable"].suppressed_by == "sw-1"
    changes = evaluate(run.state, run.open, None, run.t)
    assert [f.fault for f in changes.updated] == ["unreachable"]
    assert run.open["unreachable"].suppressed_by is None
    for _ in range(2):
        run.cycle(camera_cycle(True, True), suppressed_by=by)
    assert run.open == {}


def test_maintenance_and_healthy_parent() -> None:
    """Maintenance wins over a parent; a parent that answers suppresses nothing."""
    healthy = DeviceState(SWITCH)
    healthy.record({"icmp": ping(), "snmp": ProbeResult.ok(uplink_oper_status=1)}, 10.0)
    assert suppressor(healthy, in_maintenance=False).mark(0.0) is None
    assert suppressor(healthy, in_maintenance=True).mark(0.0) == MAINTENANCE
    assert suppressor(None, in_maintenance=False).mark(0.0) is None


def test_a_declared_outage_marks_only_faults_first_seen_inside_it() -> None:
    """Maintenance > declared > failing parent; a declaration excuses a fault only when the
    fault was first seen at or after its start."""
    parent = DeviceState(SWITCH)
    parent.record({"icmp": ping(False), "snmp": ProbeResult.fail(Reason.TIMEOUT, "no answer")},
                  10.0)
    covered = suppressor(parent, in_maintenance=False, declared=((7, 500.0), (9, 800.0)))
    assert covered.mark(499.0) == "sw-1"  # failing before either began: the parent's
    assert covered.mark(500.0) == "declared#7"
    assert covered.mark(900.0) == "declared#7"
    assert Suppression(declared=((9, 800.0),)).mark(700.0) is None
    assert suppressor(parent, in_maintenance=True,
                      declared=((7, 500.0),)).mark(600.0) == MAINTENANCE


def test_uplink_slow_and_would_open() -> None:
    """A 100 Mbit/s uplink is `uplink_slow`; would_open predicts the opening cycle."""
    site = replace(SWITCH, id="ts-1", kind="trunking_site", thresholds=Thresholds())
    run = Run(site)
    slow = {"icmp": ping(), "snmp": ProbeResult.ok(uplink_oper_status=1, uplink_speed_bps=1e8)}
    run.cycle(slow)
    run.cycle(slow)
    assert not would_open(run.state, run.open)
    run.state.record(slow, run.t + 60)
    assert would_open(run.state, run.open)


def test_reboot_is_noticed_from_uptime() -> None:
    """sysUpTime going back records when the device rebooted."""
    state = DeviceState(SWITCH)
    state.record({"icmp": ping(), "snmp": ProbeResult.ok(sys_uptime_seconds=5000.0)}, 100.0)
    assert state.rebooted_at is None
    state.record({"icmp": ping(), "snmp": ProbeResult.ok(sys_uptime_seconds=30.0)}, 160.0)
    assert state.rebooted_at == 130.0


def test_state_changes_count_only_the_flap_window() -> None:
    """Up/down changes are counted over the last flap_window cycles, like a pairwise walk would."""
    pattern = [True, False, False, True, True, True, False, True, False, False] * 4
    device = replace(CAMERA, thresholds=Thresholds(flap_window=7))
    state = DeviceState(device)
    for n, up in enumerate(pattern, 1):
        state.record(camera_cycle(up, up), float(n))
        recent = pattern[:n][-7:]
        expected = sum(1 for a, b in zip(recent, recent[1:], strict=False) if a != b)
        assert state.state_changes() == expected, n
    assert state.history_len == 20  # the kept history is at least HISTORY cycles
