"""Declared outages in the monitor: faults first seen inside one are marked ``declared#ID``
and are no notice candidate; a fault already failing when the county declared stays an item;
marks clear when the declaration ends; the maintenance gauge counts both sources.

The monitor runs on a real store (both engines) with the scripted runner of the exposition
tests (no probes); declarations are made through ``declare`` as the web makes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from netwatch.inventory import MaintenanceWindow
from netwatch.monitor import Actor, Wanted, declare, end_declaration
from netwatch.notices.candidates import episode_candidates
from netwatch.store import FaultLog, Store, StoreThread
from tests.metrics.test_exposition import (
    CAMERA,
    CAMERA2,
    ENDPOINT,
    SWITCH,
    T0,
    Clock,
    ScriptedRunner,
    down,
    inventory,
    make,
    ping,
    samples,
    sweep_all,
    value,
)

BOTH_ENGINES = True
EAST = Actor("tok-east", frozenset({"east"}))
LATER = T0 + 86400.0  # well past every device's grace


def marks(store: Store) -> dict[str, str | None]:
    return {ep.device: ep.suppressed_by for ep in FaultLog(store).open_episodes()}


async def test_declared_faults_are_marked_and_no_item_while_older_faults_stay(
        store: Store, db: StoreThread) -> None:
    clock, runner = Clock(), ScriptedRunner()
    inv = inventory(SWITCH, CAMERA, CAMERA2)
    runner.results = {"sw-1": {"icmp": ping(), "snmp": ping()},
                      "cam-1": {"icmp": ping(), "rtsp": ping()},
                      "cam-2": {"icmp": down()}}  # failing before anything is declared
    monitor, exposition = make(db, runner, inv, clock)
    await sweep_all(monitor, clock)
    clock.now += 10  # cam-2 was first seen failing 10 s before the county declared
    made = declare(store, inv, Wanted("east", {"devices": ["cam-1", "cam-2"]}, clock.now,
                                      clock.now + 3600, "roadworks"), EAST, clock.now)
    await monitor.declared.refresh(force=True)
    runner.results["cam-1"] = {"icmp": down(), "rtsp": down()}  # the road's power cut
    await sweep_all(monitor, clock, times=3)
    assert await monitor.writes.flush()

    assert marks(store) == {"cam-1": f"declared#{made.id}", "cam-2": None}
    candidates = episode_candidates(FaultLog(store).open_episodes(), inv, LATER)
    assert [c.subject for c in candidates] == ["cam-2"]
    found = samples(exposition.render())
    assert value(found, "netwatch_devices_in_maintenance", county="east", kind="camera",
                 source="county") == 2
    assert value(found, "netwatch_devices_in_maintenance", county="east", kind="camera",
                 source="inventory") == 0
    assert value(found, "netwatch_open_faults", county="east", kind="camera") == 1

    # the county ends it early: cam-1's fault is an ordinary fault again at its next sweep
    end_declaration(store, made.id, EAST, clock.now + 1)
    await monitor.declared.refresh(force=True)
    await sweep_all(monitor, clock)
    assert await monitor.writes.flush()
    assert marks(store) == {"cam-1": None, "cam-2": None}
    later = episode_candidates(FaultLog(store).open_episodes(), inv, LATER)
    assert sorted(c.subject for c in later) == ["cam-1", "cam-2"]
    found = samples(exposition.render())
    assert value(found, "netwatch_devices_in_maintenance", county="east", kind="camera",
                 source="county") == 0


async def test_a_declared_switch_takes_down_no_children(store: Store, db: StoreThread) -> None:
    """A declared switch's outage is planned: its cameras fold under it as under any failing
    parent, and its own fault, declared, is no item and counts no children for one."""
    clock, runner = Clock(), ScriptedRunner()
    inv = inventory(SWITCH, CAMERA, ENDPOINT)
    runner.results = {"sw-1": {"icmp": ping(), "snmp": ping()},
                      "cam-1": {"icmp": ping(), "rtsp": ping()},
                      "vc-1": {"icmp": ping(), "sip": ping()}}
    monitor, _ = make(db, runner, inv, clock)
    await sweep_all(monitor, clock)
    made = declare(store, inv, Wanted("east", {"under": "sw-1"}, clock.now, clock.now + 7200,
                                      "power"), EAST, clock.now)
    await monitor.declared.refresh(force=True)
    runner.results.update({"sw-1": {"icmp": down(), "snmp": down()},
                           "cam-1": {"icmp": down(), "rtsp": down()}})
    await sweep_all(monitor, clock, times=3)
    assert await monitor.writes.flush()
    assert marks(store) == {"sw-1": f"declared#{made.id}", "cam-1": f"declared#{made.id}"}
    assert episode_candidates(FaultLog(store).open_episodes(), inv, LATER) == []


async def test_a_device_in_maintenance_and_declared_counts_once_as_inventory(
        store: Store, db: StoreThread) -> None:
    clock, runner = Clock(), ScriptedRunner()
    window = MaintenanceWindow("repaint", devices=("cam-1",),
                               start=datetime.fromtimestamp(T0 - 3600, UTC),
                               end=datetime.fromtimestamp(T0 + 1e6, UTC))
    inv = inventory(CAMERA, CAMERA2, maintenance=(window,))
    runner.results = {"cam-1": {"icmp": down(), "rtsp": down()}, "cam-2": {"icmp": down()}}
    monitor, exposition = make(db, runner, inv, clock)
    declare(store, inv, Wanted("east", {"devices": ["cam-1", "cam-2"]}, clock.now,
                               clock.now + 3600, "relocation"), EAST, clock.now)
    await monitor.declared.refresh(force=True)
    await sweep_all(monitor, clock, times=3)
    assert await monitor.writes.flush()
    assert marks(store)["cam-1"] == "maintenance"  # maintenance before a declaration
    found = samples(exposition.render())
    assert value(found, "netwatch_devices_in_maintenance", county="east", kind="camera",
                 source="inventory") == 1
    assert value(found, "netwatch_devices_in_maintenance", county="east", kind="camera",
                 source="county") == 1
