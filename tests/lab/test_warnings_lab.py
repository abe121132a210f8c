"""Early warnings from the lab's trends on 127.80.7.0/24: real SNMP agents whose error
counters grow (``snmp_errors``) or whose uptime keeps restarting (``rebooted``), probed by
the real runner, judged by the monitor's ``Trends``; a calm agent beside them raises none;
and on 127.80.8.0/24 echo loss in steps (``degraded`` with ``steps``, nftables)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from netwatch.inventory import load_inventory
from netwatch.lab.lab import Lab
from netwatch.monitor import Monitor, Runner, Trends, current_warnings
from netwatch.store import Store, StoreThread
from netwatch.vocab import Warning
from probes.base import ProbeContext
from tests.lab.labkit import HEADER, SECRETS, make_scenario, needs_firewall, table_name
from tests.peers import free_port

NET = "127.80.7"
DEADLINE = 30.0  # seconds: the trends take about 5 s of lab time
SWEEP_EVERY = 0.25


def inventory_text(port: int) -> str:
    line = ("  - {{id: {id}, kind: trunking_site, county: north, address: {NET}.{n}, "
            "name: {id}, timeout: 300ms, checks: [snmp], snmp_profile: v2, uplink_if: 1, "
            "ports: {{snmp: {port}}}}}\n")
    devices = "".join(line.format(id=i, n=n, port=port, NET=NET)
                      for i, n in (("ts-err", 1), ("ts-boot", 2), ("ts-calm", 3)))
    warnings = "warnings: {uplink_errors: 50, errors_window: 1m, reboots_per_day: 3}\n"
    return HEADER.replace("devices:\n", warnings + "devices:\n") + devices


SCENARIO = """faults:
  - {device: ts-err, fault: snmp_errors, period: 200ms, errors: 4}
  - {device: ts-boot, fault: rebooted, period: 1500ms}
"""


async def test_growing_errors_and_repeated_reboots_warn(tmp_path: Path, store: Store,
                                                        db: StoreThread) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(inventory_text(free_port(f"{NET}.1", udp=True)), encoding="utf-8")
    inventory = load_inventory(path, env=SECRETS)
    scenario = make_scenario(inventory, SCENARIO)
    wanted = {"ts-err": {Warning.UPLINK_ERRORS_RISING}, "ts-boot": {Warning.REBOOTS}}
    async with Lab(inventory, scenario, firewall=False), ProbeContext() as ctx:
        monitor = Monitor(inventory, Runner(ctx), db)
        trends = Trends(monitor)
        monitor.listeners.append(trends.on_sweep)
        raised: dict[str, set[Warning]] = {}
        ends = time.monotonic() + DEADLINE
        while raised != wanted and time.monotonic() < ends:
            for key in list(monitor.groups):
                await monitor.run_group(key)
            raised = {}
            for device, warning, _ in trends.raised():
                raised.setdefault(device.id, set()).add(warning)
            await asyncio.sleep(SWEEP_EVERY)  # the lab's counters move with real time
        assert raised == wanted  # and nothing on the calm agent
        assert all(r.success for r in monitor.states["ts-calm"].results.values())
        assert monitor.faults == {}  # warnings, not faults
        await trends.flush(10.0)
        assert {(w.device, w.warning) for w in current_warnings(store)} == {
            ("ts-err", "uplink_errors_rising"), ("ts-boot", "reboots")}
        await trends.close()


LOSS_NET = "127.80.8"
LOSS_DEVICES = """\
warnings: {min_samples: 20, baseline_tau: 1d, recent_tau: 2s, loss_rise: 2%}
devices:
  - {id: cam-loss, kind: camera, county: north, address: 127.80.8.1, name: loss,
     checks: [{probe: icmp, count: 50, interval: 2ms}]}
  - {id: cam-calm, kind: camera, county: north, address: 127.80.8.2, name: calm,
     checks: [{probe: icmp, count: 50, interval: 2ms}]}
"""


@needs_firewall
async def test_loss_in_steps_warns_and_a_calm_device_does_not(tmp_path: Path, store: Store,
                                                               db: StoreThread) -> None:
    """The lab drops cam-loss's echoes 0 %, then 2 %, then 5 % (8 s a step): its recent loss
    climbs over its baseline and loss_rising is raised; cam-calm beside it raises none."""
    path = tmp_path / "inventory.yaml"
    path.write_text(HEADER.replace("devices:\n", LOSS_DEVICES), encoding="utf-8")
    inventory = load_inventory(path, env=SECRETS)
    scenario = make_scenario(
        inventory, "faults:\n  - {device: cam-loss, fault: degraded, steps: [0%, 2%, 5%], "
                   "every: 8s}\n")
    async with Lab(inventory, scenario, table=table_name("warn")) as lab, \
            ProbeContext() as ctx:
        monitor = Monitor(inventory, Runner(ctx), db)
        trends = Trends(monitor)
        monitor.listeners.append(trends.on_sweep)
        raised: set[tuple[str, Warning]] = set()
        ends = time.monotonic() + DEADLINE + 20
        while not raised and time.monotonic() < ends:
            for key in list(monitor.groups):
                await monitor.run_group(key)
            raised = {(d.id, w) for d, w, _ in trends.raised()}
            await asyncio.sleep(SWEEP_EVERY)
        assert raised == {("cam-loss", Warning.LOSS_RISING)}
        assert lab.info.not_applied == ()
        assert monitor.faults == {}
        calm = trends.trends["cam-calm"]
        assert calm.samples >= 20 and calm.recent_loss < 0.01
        await trends.close()
