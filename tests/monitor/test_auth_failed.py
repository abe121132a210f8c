"""A refused credential is its own fault: the device answered, our settings disagree with it."""

from __future__ import annotations

from netwatch.inventory import CheckSpec, Device, Thresholds
from netwatch.monitor import FAULT_KINDS, DeviceState, judge
from netwatch.monitor.faults import evaluate
from probes.base import ProbeResult, Reason


def dev(*checks: tuple[str, str]) -> Device:
    return Device(
        id="sw-1", kind="switch", county="c1", address="127.65.1.1", name="sw-1",
        checks=tuple(CheckSpec(name, probe, 0, None) for name, probe in checks),
        interval=30.0, timeout=1.0, thresholds=Thresholds(),
    )


OK = ProbeResult.ok()
WRONG_KEY = ProbeResult.fail(Reason.AUTH, "SNMP v3: wrong digest: bad auth key or protocol "
                                          "(usmStatsWrongDigests)")
FORBIDDEN = ProbeResult.fail(Reason.AUTH, "GET /: status 403 Forbidden, not expected")
DOWN = ProbeResult.fail(Reason.TIMEOUT, "no reply to 5 echoes")
SWITCH = dev(("icmp", "icmp"), ("snmp", "snmp"))


def test_a_wrong_snmp_key_is_auth_failed_not_service_down() -> None:
    """Ping answers, SNMP refuses our key: auth_failed (it was service_down before); the
    device is up (it works: online rates and the device-up metric must not drop)."""
    verdict = judge(SWITCH, {"icmp": OK, "snmp": WRONG_KEY})
    assert (verdict.up, verdict.fault) == (True, "auth_failed")
    assert "auth_failed" in FAULT_KINDS


def test_an_answer_refusing_credentials_is_not_unreachable() -> None:
    """A device whose only check refuses our credentials answered: not unreachable."""
    web = dev(("web", "http"))
    assert judge(web, {"web": FORBIDDEN}).fault == "auth_failed"


def test_outages_come_first() -> None:
    """A service down beside a refused credential is service_down; all silent is unreachable."""
    three = dev(("icmp", "icmp"), ("snmp", "snmp"), ("web", "http"))
    verdict = judge(three, {"icmp": OK, "snmp": WRONG_KEY, "web": DOWN})
    assert (verdict.up, verdict.fault) == (False, "service_down")
    assert judge(SWITCH, {"icmp": DOWN, "snmp": DOWN}).fault == "unreachable"


def test_the_fault_opens_with_hysteresis_and_says_which_check() -> None:
    """Three cycles of a refused key open auth_failed, its detail naming the check and why."""
    state = DeviceState(SWITCH)
    opened = []
    for n in range(3):
        state.record({"icmp": OK, "snmp": WRONG_KEY}, 100.0 + n)
        opened += evaluate(state, {}, None, 100.0 + n).opened
    [fault] = opened
    assert (fault.fault, fault.first_seen) == ("auth_failed", 100.0)
    assert "snmp: auth (SNMP v3: wrong digest" in fault.detail
