"""expected_faults against a real sweep of the lab on 127.104.15.0/24: every fault kind, once.

The lab plays a small city with one device per fault kind; the monitor's own runner and
verdict probe it once, and each device's fault must be what the scenario predicts.
"""

from __future__ import annotations

from pathlib import Path

from netwatch.lab.lab import Lab
from netwatch.lab.netfilter import delete_table_now
from netwatch.lab.scenario import accepts, expected_faults
from netwatch.monitor import AllowList, judge, sweep_once
from tests.lab.labkit import (
    make_inventory,
    make_scenario,
    needs_firewall,
    needs_nfqueue,
    queue_number,
    table_name,
)
from tests.peers import free_port

NET = "127.104.15"
KINDS = {  # device id -> (kind, extra YAML)
    "sw-1": ("switch", "snmp_profile: v2, uplink_if: 1"),
    "sw-2": ("switch", "parent: sw-1, snmp_profile: v2, uplink_if: 1"),
    "ts-down": ("trunking_site", "parent: sw-1, snmp_profile: v2, uplink_if: 1"),
    "ts-slow": ("trunking_site", "parent: sw-1, snmp_profile: v3, uplink_if: ge-0/0/1"),
    "ts-mute": ("trunking_site", "parent: sw-1, snmp_profile: v2, uplink_if: 1"),
    "ts-boot": ("trunking_site", "parent: sw-1, snmp_profile: v3, uplink_if: 1"),
    "cam-child": ("camera", "parent: sw-2"),
    "cam-down": ("camera", ""),
    "cam-503": ("camera", ""),
    "cam-401": ("camera", ""),
    "cam-open": ("camera", ""),
    "cam-closed": ("camera", ""),
    "cam-flap": ("camera", ""),
    "cam-ok": ("camera", ""),
    "vc-slow": ("vc_endpoint", ""),
    "vc-mute": ("vc_endpoint", ""),
    "vc-ok": ("vc_endpoint", ""),
}
SCENARIO = """faults:
  - {device: sw-2, fault: unreachable}
  - {device: ts-down, fault: uplink_down}
  - {device: ts-slow, fault: uplink_slow}
  - {device: ts-mute, fault: snmp_timeout}
  - {device: ts-boot, fault: rebooted, period: 1m}
  - {device: cam-down, fault: unreachable}
  - {device: cam-503, fault: rtsp_503}
  - {device: cam-401, fault: rtsp_401}
  - {device: cam-open, fault: open_stream}
  - {device: cam-closed, fault: service_down}
  - {device: cam-flap, fault: flapping, period: 300ms}
  - {device: vc-slow, fault: degraded, latency: 350ms, loss: 10%}
  - {device: vc-mute, fault: sip_silent}
"""


@needs_firewall
@needs_nfqueue
async def test_one_sweep_reports_what_the_scenario_predicts(tmp_path: Path) -> None:
    """Each device's fault from one real sweep matches expected_faults (markers allowed)."""
    port = free_port(f"{NET}.1", udp=True)
    service = {"switch": "snmp", "trunking_site": "snmp", "camera": "rtsp", "vc_endpoint": "sip"}
    inventory = make_inventory(tmp_path, "".join(
        f"  - {{id: {i}, kind: {kind}, county: north, address: {NET}.{n}, name: {i},"
        f" ports: {{{service[kind]}: {port}}}, timeout: 600ms{', ' + extra if extra else ''}}}\n"
        for n, (i, (kind, extra)) in enumerate(KINDS.items(), 1)))
    scenario = make_scenario(inventory, SCENARIO)
    expected = expected_faults(inventory, scenario)
    assert expected["cam-child"] == "unreachable" and expected["cam-ok"] is None
    table = table_name("e2e")
    try:
        async with Lab(inventory, scenario, table=table, queue=queue_number(2)) as lab:
            assert lab.info is not None and not lab.info.not_applied, lab.info.unavailable
            results = await sweep_once(inventory.devices, AllowList.from_env(
                {"NETWATCH_ALLOWED_NETS": "127.0.0.0/8"}))
    finally:
        delete_table_now(table)
    got = {r.device.id: judge(r.device, r.checks).fault for r in results}
    wrong = {d: (expected[d], got[d]) for d in expected if not accepts(expected[d], got[d])}
    assert wrong == {}
