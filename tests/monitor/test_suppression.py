"""Suppression follows the parent's current state: across a restart, and as soon as it changes.

A child's fault is marked by what its parent is doing now — never frozen at the time
the fault opened or was saved. The monitor runs on a real store; the runner is the
scripted stand-in the exposition tests use (no probes, no network).
"""

from __future__ import annotations

from netwatch.metrics import Exposition
from netwatch.monitor import Monitor
from netwatch.store import FaultLog, Store, StoreThread
from tests.metrics.test_exposition import (
    CAMERA,
    SWITCH,
    Clock,
    ScriptedRunner,
    agent,
    dev_labels,
    down,
    inventory,
    ping,
    samples,
    value,
)

INVENTORY = inventory(SWITCH, CAMERA)
DOWN = {"sw-1": {"icmp": down(), "snmp": down()}, "cam-1": {"icmp": down(), "rtsp": down()}}


def group_of(monitor: Monitor, device_id: str) -> str:
    (key,) = [k for k, g in monitor.groups.items() if any(d.id == device_id for d in g.devices)]
    return key


async def sweep(monitor: Monitor, clock: Clock, *device_ids: str) -> None:
    """One sweep of the groups holding ``device_ids``, in that order, a minute later."""
    clock.now += 60
    for device_id in device_ids:
        await monitor.run_group(group_of(monitor, device_id))


def camera_fault(monitor: Monitor) -> tuple[str | None, ...]:
    return tuple(f.suppressed_by for f in monitor.open_faults() if f.device == "cam-1")


async def test_restart_keeps_the_child_suppressed(store: Store, db: StoreThread) -> None:
    """Switch and camera down, faults open, restart: the camera's fault stays under the switch
    even when the camera's group sweeps before the switch has been probed again."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(DOWN)
    first = Monitor(INVENTORY, runner, db, clock=clock)  # type: ignore[arg-type]
    for _ in range(3):
        await sweep(first, clock, "sw-1", "cam-1")
    assert camera_fault(first) == ("sw-1",)

    second = Monitor(INVENTORY, runner, db, clock=clock)  # type: ignore[arg-type]
    exposition = Exposition(second)
    exposition.attach()
    assert await second.restore() == 2
    assert camera_fault(second) == ("sw-1",)
    await sweep(second, clock, "cam-1")  # the switch is not probed yet in this run
    assert camera_fault(second) == ("sw-1",)
    found = samples(exposition.render())
    assert value(found, "netwatch_fault_suppressed_children", **dev_labels(SWITCH)) == 1
    assert value(found, "netwatch_fault_open", **dev_labels(CAMERA), fault="unreachable",
                 suppressed="true") == 1
    (saved,) = [e for e in FaultLog(store).open_episodes() if e.device == "cam-1"]
    assert saved.suppressed_by == "sw-1"


async def test_restore_rederives_a_suppression_saved_wrong(store: Store,
                                                          db: StoreThread) -> None:
    """A child fault saved unsuppressed while its parent's fault is open is folded under the
    parent on restore, before any sweep."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(DOWN)
    first = Monitor(INVENTORY, runner, db, clock=clock)  # type: ignore[arg-type]
    for _ in range(3):
        await sweep(first, clock, "sw-1", "cam-1")
    (episode,) = [e for e in FaultLog(store).open_episodes() if e.device == "cam-1"]
    FaultLog(store).apply([], [(episode.id, None, episode.detail)], [])

    second = Monitor(INVENTORY, runner, db, clock=clock)  # type: ignore[arg-type]
    await second.restore()
    assert camera_fault(second) == ("sw-1",)
    (saved,) = [e for e in FaultLog(store).open_episodes() if e.device == "cam-1"]
    assert saved.suppressed_by == "sw-1"


async def test_child_folds_under_its_parent_as_soon_as_the_parent_fails(
        store: Store, db: StoreThread) -> None:
    """A camera fault opened while its switch was fine folds under the switch on the switch's
    own sweep, and comes out again when the switch answers."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = {"sw-1": {"icmp": ping(), "snmp": agent()},
                      "cam-1": DOWN["cam-1"]}
    monitor = Monitor(INVENTORY, runner, db, clock=clock)  # type: ignore[arg-type]
    for _ in range(3):
        await sweep(monitor, clock, "sw-1", "cam-1")
    assert camera_fault(monitor) == (None,)
    runner.results["sw-1"] = DOWN["sw-1"]
    await sweep(monitor, clock, "sw-1")
    assert camera_fault(monitor) == ("sw-1",)
    runner.results["sw-1"] = {"icmp": ping(), "snmp": agent()}
    await sweep(monitor, clock, "sw-1")
    assert camera_fault(monitor) == (None,)


async def test_a_device_repaired_while_the_daemon_was_down_closes_its_restored_fault(
        store: Store, db: StoreThread) -> None:
    """Down when the daemon stopped, up when it starts again: the restored fault closes after
    ``close_after`` good sweeps (before, no streak of its kind ever counted it absent)."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = {"cam-1": DOWN["cam-1"]}
    first = Monitor(inventory(CAMERA), runner, db, clock=clock)  # type: ignore[arg-type]
    for _ in range(3):
        await sweep(first, clock, "cam-1")
    assert camera_fault(first) == (None,)

    runner.results = {"cam-1": {"icmp": ping(), "rtsp": ping()}}
    assert await first.writes.flush()
    second = Monitor(inventory(CAMERA), runner, db, clock=clock)  # type: ignore[arg-type]
    assert await second.restore() == 1
    for _ in range(CAMERA.close_after):
        await sweep(second, clock, "cam-1")
    assert camera_fault(second) == ()
    assert await second.writes.flush()
    [episode] = FaultLog(store).query(state="all")
    assert episode.close_reason == "recovered" and episode.closed_at == clock.now
