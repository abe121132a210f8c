"""Each device's state in the store: written by its county's active instance when it changes
(never at every result), fenced by the county's lease, every device once after a takeover,
and written again at the next sweep when the store was away."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.monitor import (
    DeviceStatus,
    Monitor,
    Ownership,
    StatusWriter,
    claim,
    read_status,
    release,
    write_status,
)
from netwatch.store import Store, StoreThread
from probes.base import ProbeResult, Reason
from tests.metrics.test_exposition import (
    CAMERA,
    CAMERA2,
    ENDPOINT,
    HEALTHY,
    SWITCH,
    Clock,
    ScriptedRunner,
    down,
    inventory,
    ping,
    sweep_all,
)
from tests.store.away import Lock, quick_thread

BOTH_ENGINES = True
TTL = 30.0
CITY = inventory(SWITCH, CAMERA, CAMERA2, ENDPOINT)  # east: sw-1, cam-1, cam-2; west: vc-1


def rows(store: Store) -> dict[str, DeviceStatus]:
    return read_status(store, ["sw-1", "cam-1", "cam-2", "vc-1", "cam-gone"])


def writer_of(db: StoreThread, runner: ScriptedRunner, clock: Clock,
              ownership: Ownership | None = None) -> tuple[Monitor, StatusWriter]:
    monitor = Monitor(CITY, runner, db, clock=clock,  # type: ignore[arg-type]
                      ownership=ownership)
    writer = StatusWriter(monitor)
    monitor.listeners.append(writer.on_sweep)
    return monitor, writer


async def swept(monitor: Monitor, writer: StatusWriter, clock: Clock, times: int = 1) -> None:
    """Sweeps, each followed by its writes (the daemon does not wait for them; a test does)."""
    for _ in range(times):
        await sweep_all(monitor, clock)
        await writer.flush(10.0)


async def test_only_changes_are_written(store: Store, db: StoreThread) -> None:
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    monitor, writer = writer_of(db, runner, clock)
    await swept(monitor, writer, clock)
    first = clock.now
    assert writer.written == 4
    stored = rows(store)
    assert {d: (r.state, r.up, r.county) for d, r in stored.items()} == {
        "sw-1": ("up", True, "east"), "cam-1": ("up", True, "east"),
        "cam-2": ("up", True, "east"), "vc-1": ("up", True, "west")}
    assert stored["sw-1"].checks == {
        "icmp": {"probe": "icmp", "success": True, "reason": "ok", "detail": ""},
        "snmp": {"probe": "snmp", "success": True, "reason": "ok", "detail": ""}}
    # new figures every sweep (RTT, uptime): no state change, nothing written
    for rtt in (0.003, 0.004, 0.005):
        runner.results["cam-2"] = {"icmp": ping(rtt=rtt)}
        await swept(monitor, writer, clock)
    assert writer.written == 4
    assert rows(store)["cam-2"].checked_at == first  # not rewritten
    # cam-2 stops answering: its row alone, once, whatever the next sweeps say the same
    runner.results["cam-2"] = {"icmp": down()}
    await swept(monitor, writer, clock)
    went_down = clock.now
    await swept(monitor, writer, clock, times=2)
    assert writer.written == 5
    cam = rows(store)["cam-2"]
    assert (cam.state, cam.up, cam.fault, cam.reasons) == (
        "down", False, "unreachable", ("no check answered",))
    assert cam.checks == {"icmp": {"probe": "icmp", "success": False, "reason": "timeout",
                                   "detail": "no reply"}}  # no measurements, ever
    assert (cam.checked_at, cam.changed_at, cam.last_up_at) == (went_down, went_down, went_down
                                                                 - 60)
    # back up: written again, and its state's time moves with it
    runner.results["cam-2"] = {"icmp": ping()}
    await swept(monitor, writer, clock)
    assert writer.written == 6
    assert (rows(store)["cam-2"].state, rows(store)["cam-2"].changed_at) == ("up", clock.now)


async def test_a_write_keeps_the_state_s_time_when_only_details_change(store: Store,
                                                                      db: StoreThread) -> None:
    """``changed_at`` says since when the state word holds: a new reason keeps it."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    runner.results["cam-1"] = {"icmp": ping(), "rtsp": down()}
    monitor, writer = writer_of(db, runner, clock)
    await swept(monitor, writer, clock)
    since = clock.now
    runner.results["cam-1"] = {"icmp": ping(),
                               "rtsp": ProbeResult.fail(Reason.REFUSED, "connection refused")}
    await swept(monitor, writer, clock)
    cam = rows(store)["cam-1"]
    assert (cam.state, cam.reasons, cam.changed_at, cam.checked_at) == (
        "down", ("rtsp: refused",), since, clock.now)


async def test_only_the_counties_it_is_active_for_and_fenced(store: Store,
                                                            db: StoreThread) -> None:
    """Instance a is active for east only: west's devices (its shadow) are not written. Once
    b has taken east over (a paused past its lease), a's write is refused whole."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    claimed = claim(store, "a", {"east"}, {}, TTL, now=1000.0)
    mine = Ownership("a", frozenset({"east", "west"}), generations=dict(claimed.held))
    monitor, writer = writer_of(db, runner, clock, mine)
    await swept(monitor, writer, clock)
    assert {d: r.holder for d, r in rows(store).items()} == {
        "sw-1": "a", "cam-1": "a", "cam-2": "a"}  # vc-1 (west): a stands by for it
    # b takes east once a's lease has lapsed; a does not know yet (no claim round ran)
    assert claim(store, "b", {"east"}, {}, TTL, now=1100.0).held == {"east": 2}
    runner.results["cam-2"] = {"icmp": down()}
    await swept(monitor, writer, clock)
    assert rows(store)["cam-2"].state == "up"  # refused: the store still has the old row
    assert writer.written == 3 and writer.failed == 1
    # the write is tried again at the next sweep, and refused again: nothing slips through
    await swept(monitor, writer, clock)
    assert rows(store)["cam-2"].state == "up" and writer.failed == 2


async def test_a_takeover_writes_every_device_once_and_drops_rows_of_devices_gone(
        store: Store, db: StoreThread) -> None:
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    claimed = claim(store, "a", {"east", "west"}, {}, TTL, now=1000.0)
    mine = Ownership("a", None, generations=dict(claimed.held))
    monitor, writer = writer_of(db, runner, clock, mine)
    await swept(monitor, writer, clock, times=2)
    assert writer.written == 4
    # a device that left the inventory while nobody watched east
    ghost = DeviceStatus("cam-gone", "east", "camera", "down", False, "unreachable", (), (),
                         {}, 1.0, None, 1.0, "old")
    write_status(store, [ghost])
    release(store, "a", dict(mine.generations), now=1010.0)
    again = claim(store, "a", {"east", "west"}, {}, TTL, now=1011.0)  # a restart's takeover
    monitor.ownership.generations.update(again.held)  # type: ignore[union-attr]
    await swept(monitor, writer, clock)
    assert writer.written == 8  # every device once more, under the new generations
    assert set(rows(store)) == {"sw-1", "cam-1", "cam-2", "vc-1"}  # the ghost's row is gone
    await swept(monitor, writer, clock)
    assert writer.written == 8


async def test_a_reload_drops_the_rows_of_devices_gone(store: Store, db: StoreThread) -> None:
    """cam-2 leaves the inventory: its row goes with east's next write; the others stay."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    monitor, writer = writer_of(db, runner, clock)
    await swept(monitor, writer, clock)
    monitor.reload(inventory(SWITCH, CAMERA, ENDPOINT))
    runner.results["cam-1"] = {"icmp": ping(), "rtsp": down()}  # a change in east
    await swept(monitor, writer, clock)
    assert set(rows(store)) == {"sw-1", "cam-1", "vc-1"}
    assert rows(store)["cam-1"].state == "down"


@pytest.fixture
def quick_db(tmp_path: Path) -> Iterator[StoreThread]:
    db = quick_thread(tmp_path / "away.db")
    yield db
    db.close()


async def test_changes_missed_while_the_store_was_away_are_written_at_the_next_sweep(
        quick_db: StoreThread, tmp_path: Path) -> None:
    """SQLite locked by another connection: the sweep goes on (nothing waits for the
    store), nothing is kept; the first sweep after the store is back writes the change."""
    clock, runner = Clock(), ScriptedRunner()
    runner.results = dict(HEALTHY)
    monitor, writer = writer_of(quick_db, runner, clock)
    await swept(monitor, writer, clock)
    lock = Lock(tmp_path / "away.db")
    try:
        runner.results["cam-2"] = {"icmp": down()}
        await swept(monitor, writer, clock)  # the write fails: the store is away
        assert writer.failed == 1 and writer.pending == 0
        await swept(monitor, writer, clock)  # known away now: nothing even queued
        assert writer.failed == 1
    finally:
        lock.release()
    assert (await quick_db.check()).up
    await swept(monitor, writer, clock)
    with Store.open(tmp_path / "away.db") as store:
        cam = rows(store)["cam-2"]
    assert (cam.state, cam.checks["icmp"]["reason"]) == ("down", "timeout")


def test_rows_read_back_as_written(store: Store) -> None:
    """Every field round-trips on either engine (JSON text, 0/1, NULLs)."""
    row = DeviceStatus("cam-1", "east", "camera", "down", False, "service_down",
                       ("rtsp: refused",), ("rtsp_auth_weak",),
                       {"rtsp": {"probe": "rtsp", "success": False, "reason": "refused",
                                 "detail": "连接被拒绝"}}, 1_700_000_000.5, None, 1_700_000_000.5,
                       "host-a:9810")
    never = DeviceStatus("cam-2", "east", "camera", "unknown", None, None, (), (), {}, None,
                         None, 1.0, "host-a:9810")
    write_status(store, [row, never])
    assert read_status(store, ["cam-1", "cam-2", "cam-3"]) == {"cam-1": row, "cam-2": never}
    raw = store.one("SELECT checks FROM device_status WHERE device = 'cam-1'")
    assert raw is not None and "连接被拒绝" in raw[0] and json.loads(raw[0])["rtsp"]["detail"]
