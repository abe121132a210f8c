"""The store away: faults still open and close on the probes' word, their changes wait in
memory, in order, and are written once when the store takes writes again, with the times
they happened. The store is a real SQLite file; another connection's exclusive lock makes
it refuse writes (its busy wait is short, so nothing here waits long)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netwatch.monitor import Monitor, Ownership, claim, writes
from netwatch.store import FaultLog, Store, StoreThread
from tests.metrics.test_exposition import (
    CAMERA2,
    Clock,
    ScriptedRunner,
    down,
    inventory,
    ping,
    sweep_all,
)
from tests.store.away import Lock, quick_thread

INVENTORY = inventory(CAMERA2)  # one camera, one ICMP check, open_after 3, close_after 2


@pytest.fixture
def quick_db(tmp_path: Path) -> Iterator[StoreThread]:
    db = quick_thread(tmp_path / "netwatch.db")
    yield db
    db.close()


def episodes(store: Store) -> list[tuple[str, float, float, float | None, str | None]]:
    return [(e.device, e.first_seen, e.opened_at, e.closed_at, e.close_reason)
            for e in FaultLog(store).query(state="all")]


async def test_a_fault_opened_while_the_store_is_away_is_recorded_once_on_its_return(
        quick_db: StoreThread, store: Store, tmp_path: Path) -> None:
    clock, runner = Clock(), ScriptedRunner()
    monitor = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    runner.results = {"cam-2": {"icmp": ping()}}
    await sweep_all(monitor, clock)
    runner.results = {"cam-2": {"icmp": down()}}
    first_failure = clock.now + 60
    lock = Lock(tmp_path / "netwatch.db")
    try:
        await sweep_all(monitor, clock, times=4)  # opens at the third failing sweep
        (fault,) = monitor.open_faults()  # opened in memory on the probes' word
        assert (fault.device, fault.first_seen) == ("cam-2", first_failure)
        assert fault.episode_id is None and monitor.writes.pending == 1
        assert episodes(store) == []
        assert not quick_db.status().up
        (problem, *_) = monitor.health_problems()
        assert problem.startswith("store: ") and "1 fault change(s)" in problem
    finally:
        lock.release()
    assert await monitor.writes.flush()
    assert episodes(store) == [("cam-2", first_failure, first_failure + 120, None, None)]
    assert fault.episode_id is not None and monitor.writes.pending == 0
    assert await monitor.writes.flush()  # nothing left: nothing written twice
    assert len(episodes(store)) == 1
    assert (await quick_db.check()).up and monitor.health_problems() == []


async def test_open_and_close_while_away_are_written_in_order_with_their_times(
        quick_db: StoreThread, store: Store, tmp_path: Path) -> None:
    """Opened, then closed, all while the store refuses writes: one closed episode with the
    first-seen, opening and closing times the monitor decided, and none left open."""
    clock, runner = Clock(), ScriptedRunner()
    monitor = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    lock = Lock(tmp_path / "netwatch.db")
    try:
        runner.results = {"cam-2": {"icmp": down()}}
        await sweep_all(monitor, clock, times=3)
        opened_at = clock.now
        runner.results = {"cam-2": {"icmp": ping()}}
        await sweep_all(monitor, clock, times=2)  # close_after 2: closed as recovered
        closed_at = clock.now
        assert monitor.open_faults() == []
        assert monitor.writes.pending == 2  # the open, then the close
    finally:
        lock.release()
    assert await monitor.writes.flush()
    assert episodes(store) == [("cam-2", opened_at - 120, opened_at, closed_at, "recovered")]
    assert FaultLog(store).open_episodes() == []


async def test_a_restart_after_the_store_returned_restores_what_was_kept(
        quick_db: StoreThread, store: Store, tmp_path: Path) -> None:
    """What was kept in memory and written on the store's return is what a restart restores."""
    clock, runner = Clock(), ScriptedRunner()
    first = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    runner.results = {"cam-2": {"icmp": down()}}
    lock = Lock(tmp_path / "netwatch.db")
    try:
        await sweep_all(first, clock, times=3)
    finally:
        lock.release()
    assert await first.writes.flush()
    second = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    assert await second.restore() == 1
    (before,), (after,) = first.open_faults(), second.open_faults()
    assert (after.first_seen, after.opened_at, after.episode_id) == (
        before.first_seen, before.opened_at, before.episode_id)


async def test_a_sweep_does_not_wait_for_a_retry_while_the_store_is_known_away(
        quick_db: StoreThread, store: Store, tmp_path: Path) -> None:
    """A retry of the kept changes may wait long on a lock or a connection (here a call holds
    the database thread); a sweep meanwhile finishes without waiting for it, however long
    its write wait, and the retry writes the change once the thread is free."""
    clock, runner = Clock(), ScriptedRunner()
    monitor = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    monitor.write_wait = 3600.0  # a sweep that waited for the retry would not finish
    runner.results = {"cam-2": {"icmp": down()}}
    lock = Lock(tmp_path / "netwatch.db")
    try:
        await sweep_all(monitor, clock, times=3)  # opened; its write refused: the store away
    finally:
        lock.release()
    assert not quick_db.status().up and monitor.writes.pending == 1
    release, started = threading.Event(), threading.Event()

    def held(store: Store) -> None:
        started.set()
        release.wait(30)

    holder = asyncio.create_task(quick_db.call(held))
    try:
        assert await asyncio.to_thread(started.wait, 30)
        retry = asyncio.create_task(monitor.writes.flush())
        for _ in range(100):  # until the retry waits behind the held call
            if quick_db.status().queued:
                break
            await asyncio.sleep(0)
        assert quick_db.status().queued == 1
        async with asyncio.timeout(20):  # the old sweep waited for the retry: never ends
            await sweep_all(monitor, clock)
        assert not retry.done() and monitor.writes.pending == 1
    finally:
        release.set()
        await holder
    assert await retry
    assert [e[0] for e in episodes(store)] == ["cam-2"]


async def test_the_first_sweep_after_the_store_returns_writes_what_was_kept(
        quick_db: StoreThread, store: Store, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer's pause grows to ``RETRY_MAX`` during a long outage; once the database
    thread finds the store back, the next sweep has the kept change written, not the end of
    the pause (here made an hour long)."""
    monkeypatch.setattr(writes, "RETRY_FIRST", 3600.0)
    clock, runner = Clock(), ScriptedRunner()
    monitor = Monitor(INVENTORY, runner, quick_db, clock=clock)  # type: ignore[arg-type]
    runner.results = {"cam-2": {"icmp": down()}}
    lock = Lock(tmp_path / "netwatch.db")
    try:
        await sweep_all(monitor, clock, times=3)
        assert monitor.writes.pending == 1 and monitor.writes.retries == 1
    finally:
        lock.release()
    await sweep_all(monitor, clock)  # still known away: nothing tried
    assert monitor.writes.pending == 1 and episodes(store) == []
    assert (await quick_db.check()).up  # what the database thread does every 2 s while away
    await sweep_all(monitor, clock)
    assert monitor.writes.pending == 0
    assert [e[0] for e in episodes(store)] == ["cam-2"]


async def test_a_kept_change_the_fence_refuses_is_never_said_recorded(
        quick_db: StoreThread, store: Store, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """Kept while the store was away, then refused by the fence once it is back (another
    instance took the county meanwhile): the log says it was not recorded, and nothing
    says the kept changes were recorded."""
    clock, runner = Clock(), ScriptedRunner()
    monitor = Monitor(INVENTORY, runner, quick_db, clock=clock,  # type: ignore[arg-type]
                      ownership=Ownership("a"))
    taken = claim(store, "a", {"east"}, {}, 30.0, now=1000.0)
    monitor.adopt("east", taken.held["east"], [])
    runner.results = {"cam-2": {"icmp": down()}}
    lock = Lock(tmp_path / "netwatch.db")
    try:
        await sweep_all(monitor, clock, times=3)
        assert monitor.writes.pending == 1
    finally:
        lock.release()
    assert claim(store, "b", {"east"}, {}, 30.0, now=2000.0).held == {"east": 2}
    with caplog.at_level(logging.WARNING, logger="netwatch.monitor.writes"):
        assert await monitor.writes.flush()
    assert "1 fault change(s) not recorded: the lease of east moved on" in caplog.text
    assert "are recorded" not in caplog.text
    assert episodes(store) == []
