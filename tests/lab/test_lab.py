"""The lab as a whole on 127.104.12.0/24: what it serves, its SNMP agents, refusals, run_lab."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netwatch.inventory import Inventory
from netwatch.lab.lab import Lab, LabError, LabInfo, run_lab
from netwatch.monitor import Runner
from probes.base import ProbeContext, ProbeResult, Reason
from tests.lab.labkit import make_inventory, make_scenario
from tests.peers import accepts, free_port

NET = "127.104.12"


def snmp_devices(port: int) -> str:
    line = ("  - {{id: {id}, kind: trunking_site, county: north, address: {NET}.{n}, name: {id},"
            " timeout: 300ms,"
            " snmp_profile: {profile}, uplink_if: {uplink}, ports: {{snmp: {port}}}}}\n")
    rows = [("ts-v2", 1, "v2", 3), ("ts-v3", 2, "v3", "ge-0/0/7"), ("ts-down", 3, "v2", 1),
            ("ts-slow", 4, "v3", 1), ("ts-mute", 5, "v2", 1), ("ts-boot", 6, "v2", 1),
            ("ts-gone", 7, "v2", 1)]
    return "".join(line.format(id=i, n=n, profile=p, uplink=u, port=port, NET=NET)
                   for i, n, p, u in rows)


SNMP_FAULTS = """faults:
  - {device: ts-down, fault: uplink_down}
  - {device: ts-slow, fault: uplink_slow, speed: 100Mbit}
  - {device: ts-mute, fault: snmp_timeout}
  - {device: ts-boot, fault: rebooted, period: 300ms}
  - {device: ts-gone, fault: service_down}
"""


@pytest.fixture
async def snmp_lab(tmp_path: Path) -> AsyncIterator[tuple[Lab, Inventory]]:
    inventory = make_inventory(tmp_path, snmp_devices(free_port(f"{NET}.1", udp=True)))
    async with Lab(inventory, make_scenario(inventory, SNMP_FAULTS), firewall=False) as lab:
        yield lab, inventory


async def snmp_get(inventory: Inventory, device_id: str) -> ProbeResult:
    device = inventory.by_id()[device_id]
    check = device.check("snmp")
    assert check is not None
    async with ProbeContext() as ctx:
        return await Runner(ctx).run_check(device, check)


@pytest.mark.parametrize(("device", "status", "speed"), [
    ("ts-v2", 1, 1e9), ("ts-v3", 1, 1e9), ("ts-down", 2, 1e9), ("ts-slow", 1, 1e8)])
async def test_agents_answer_with_inventory_credentials(
        snmp_lab: tuple[Lab, Inventory], device: str, status: int, speed: float) -> None:
    """Each agent answers the real probe with the inventory's v2c or v3 credentials and state."""
    result = await snmp_get(snmp_lab[1], device)
    assert result.success, result.detail
    assert result.measurements["uplink_oper_status"] == status
    assert result.measurements["uplink_speed_bps"] == speed
    assert result.info["sys_descr"] == f"netwatch lab trunking_site: {device}"


async def test_uplink_named_by_ifname_resolves(snmp_lab: tuple[Lab, Inventory]) -> None:
    """A device whose uplink_if is an ifName gets an agent with that interface name."""
    lab, _ = snmp_lab
    assert lab.agents["ts-v3"].if_name == "ge-0/0/7"
    assert lab.agents["ts-v2"].if_index == 3


async def test_snmp_timeout_and_service_down(snmp_lab: tuple[Lab, Inventory]) -> None:
    """snmp_timeout keeps a mute agent; service_down starts none: both time out."""
    lab, inventory = snmp_lab
    for device in ("ts-mute", "ts-gone"):
        result = await snmp_get(inventory, device)
        assert not result.success and result.reason == Reason.TIMEOUT
    assert "ts-gone" not in lab.agents and lab.agents["ts-mute"].silent


async def test_rebooted_agent_uptime_restarts(snmp_lab: tuple[Lab, Inventory]) -> None:
    """rebooted resets the agent's uptime every period."""
    lab, _ = snmp_lab
    state = lab.agents["ts-boot"]
    first = state.uptime_start
    async with asyncio.timeout(5):
        # polled with a bound: the reboot timer is the lab's own, it signals nothing
        while state.uptime_start == first:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    assert state.uptime_start > first


async def test_info_reports_what_runs(snmp_lab: tuple[Lab, Inventory]) -> None:
    """LabInfo counts agents and faults and serialises to JSON."""
    lab, _ = snmp_lab
    info = lab.info
    assert isinstance(info, LabInfo)
    assert info.responders == {"snmp": 6}
    assert info.faults == {"uplink_down": 1, "uplink_slow": 1, "snmp_timeout": 1,
                           "rebooted": 1, "service_down": 1}
    assert info.table is None and info.unavailable == {"nftables": "firewall disabled"}
    assert json.loads(json.dumps(info.to_json()))["devices"] == 7
    assert info.fd_limit == resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def test_kernel_faults_reported_not_applied_without_firewall(tmp_path: Path) -> None:
    """Without nftables, unreachable/degraded faults are listed as not applied."""
    inventory = make_inventory(tmp_path, "".join(
        f"  - {{id: vc-{n}, kind: vc_endpoint, county: south, address: {NET}.{20 + n}, name: v,"
        f" checks: [icmp]}}\n" for n in (1, 2, 3)))
    scenario = make_scenario(inventory, "faults:\n  - {device: vc-1, fault: unreachable}\n"
                                        "  - {device: vc-2, fault: degraded, latency: 1s}\n")
    async with Lab(inventory, scenario, firewall=False) as lab:
        assert lab.info is not None and lab.info.not_applied == ("vc-1", "vc-2")


@pytest.mark.parametrize(("address", "message"), [
    ("::1", "device bad: address ::1 is not in 127.0.0.0/8; the lab binds loopback only"),
    ("127.0.0.1", "device bad: address 127.0.0.1 belongs to the host's own services"),
])
async def test_refuses_addresses_outside_its_range(tmp_path: Path, address: str,
                                                   message: str) -> None:
    """The lab will not play a device outside 127.0.0.0/8 or on the host's own addresses."""
    inventory = make_inventory(tmp_path, f"  - {{id: bad, kind: camera, county: north, "
                                         f"address: '{address}', name: b, checks: [icmp]}}\n")
    with pytest.raises(LabError, match=message.replace("(", r"\(").replace(".", r"\.")):
        async with Lab(inventory, None, firewall=False):
            pass


async def test_port_in_use_names_the_device(tmp_path: Path) -> None:
    """A port already taken fails the start with the device, check and address, and frees all."""
    port = free_port(f"{NET}.31")
    inventory = make_inventory(tmp_path, "".join(
        f"  - {{id: cam-{n}, kind: camera, county: north, address: {NET}.{30 + n}, name: c,"
        f" ports: {{rtsp: {port}}}}}\n" for n in (1, 2)))
    with socket.socket() as squatter:
        squatter.bind((f"{NET}.32", port))
        squatter.listen()
        with pytest.raises(LabError, match=f"device cam-2: check rtsp: cannot serve "
                                           f"{NET}.32:{port}: Address already in use"):
            async with Lab(inventory, None, firewall=False):
                pass
    assert not accepts(f"{NET}.31", port)  # the first camera was closed again


async def test_run_lab_serves_until_stopped(tmp_path: Path) -> None:
    """run_lab calls ready once serving, and closes every port when stop is set."""
    port = free_port(f"{NET}.40")
    inventory = make_inventory(tmp_path, f"  - {{id: cam, kind: camera, county: north, "
                                         f"address: {NET}.40, name: c, ports: {{rtsp: {port}}}}}\n")
    stop = asyncio.Event()
    seen: list[LabInfo] = []

    def ready(info: LabInfo) -> None:
        seen.append(info)
        assert accepts(f"{NET}.40", port)
        stop.set()

    await asyncio.wait_for(run_lab(inventory, None, ready=ready, stop=stop, firewall=False), 10)
    assert len(seen) == 1 and seen[0].responders == {"rtsp": 1}
    assert not accepts(f"{NET}.40", port)
