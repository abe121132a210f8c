"""A held database never holds the probes: sweeps run and judge on time while the database
thread is stuck, and what they decided is recorded once it is free.

Real probes on loopback: cameras with a TCP check against a listener this test serves,
and one camera whose port is closed. The database thread is held by a call blocked on an
event (a stalled server, as far as the daemon can tell) for the whole of two sweeps, with
the duties' first-check listener attached. Every check of the healthy cameras succeeds
and no fault opens for them; the closed camera's fault opens in memory; each sweep ends
while the database thread is still held (the order of events is asserted, never time).
Released, the thread writes the opened fault once, with the time it was first seen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from netwatch.daemon import SweepScheduler
from netwatch.daemon.duties import Duties
from netwatch.inventory import CheckSpec, County, Device, Inventory
from netwatch.monitor import AllowList, Monitor, Runner, monitored_since
from netwatch.store import FaultLog, Store, StoreThread
from probes import tcp
from probes.base import ProbeContext, Reason

UP_HOST, DOWN_HOST = "127.70.1.1", "127.70.1.2"
CAMERAS = 20


def inventory(port: int) -> Inventory:
    def camera(i: int, host: str) -> Device:
        check = CheckSpec("tcp", "tcp", port, tcp.parse_params({}))
        return Device(id=f"cam-{i}", kind="camera", county="east", address=host,
                      name=f"cam {i}", checks=(check,), interval=60.0, timeout=2.0,
                      open_after=1)

    devices = (*(camera(i, UP_HOST) for i in range(CAMERAS)), camera(CAMERAS, DOWN_HOST))
    return Inventory(path="t.yaml", city="T", timezone="UTC",
                     counties={"east": County("east", "East", "east police")},
                     devices=devices)


@pytest.fixture
async def listener() -> AsyncIterator[int]:
    """A healthy device's TCP port on UP_HOST (the same port is closed on DOWN_HOST)."""
    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, UP_HOST, 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def test_sweeps_run_on_time_while_the_database_thread_is_held(
        listener: int, db: StoreThread, store: Store, tmp_path: Path) -> None:
    release, held = threading.Event(), threading.Event()
    order: list[str] = []

    def stalled(_store: Store) -> None:  # a database that does not answer
        held.set()
        release.wait(60)
        order.append("database answered")

    inv = inventory(listener)
    async with ProbeContext() as ctx:
        monitor = Monitor(inv, Runner(ctx, AllowList.parse("127.70.0.0/16")), db)
        monitor.write_wait = 0.2  # how long a sweep waits for the store (it cannot now)
        duties = Duties(db, lambda: inv, tmp_path / "notices",
                        SweepScheduler(monitor, "UTC"))  # its listener records first checks
        blocked = asyncio.create_task(db.call(stalled))
        assert await asyncio.to_thread(held.wait, 30)
        try:
            for sweep in range(2):
                for key in list(monitor.groups):
                    await monitor.run_group(key)
                order.append(f"sweep {sweep} done")
                if sweep == 0:
                    first = {d: s.checked_at for d, s in monitor.states.items()}
            assert not blocked.done()  # the database thread is still held
            states = [monitor.states[f"cam-{i}"] for i in range(CAMERAS)]
            assert all(s.up for s in states)  # every healthy check succeeded on time
            assert {r.reason for s in states for r in s.results.values()} == {Reason.OK}
            assert [f.device for f in monitor.open_faults()] == [f"cam-{CAMERAS}"]
            (fault,) = monitor.open_faults()
            assert fault.episode_id is None and monitor.writes.pending == 1
        finally:
            release.set()
        await blocked
        assert order == ["sweep 0 done", "sweep 1 done", "database answered"]
        assert await monitor.writes.flush()
        await asyncio.gather(*duties._tasks)  # the first checks, recorded after all
    (episode,) = FaultLog(store).query(state="all")
    assert (episode.id, episode.device, episode.first_seen) == (
        fault.episode_id, fault.device, fault.first_seen)
    assert await db.call(lambda s: FaultLog(s).query(state="all")) == [episode]
    since = monitored_since(store)  # from the first sweep's checks, written late
    assert all(since[f"cam-{i}"] == first[f"cam-{i}"] for i in range(CAMERAS))
    assert first["cam-0"] < monitor.states["cam-0"].checked_at
