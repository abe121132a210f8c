"""The lease loop: two instances over one database, a takeover that adopts the open faults
with their first-seen times and opens or closes nothing, fencing of the old active, and
a clean stop that hands over at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from netwatch.daemon.leasing import LeaseKeeper
from netwatch.monitor import DUTIES, Monitor, Ownership, gaps_within, leases
from netwatch.store import Store, StoreThread
from netwatch.vocab import GapReason
from tests.metrics.test_exposition import ScriptedRunner
from tests.notices.city import city, fault
from tests.store.away import quick_thread

TTL = 1.0  # seconds: short, so the test sees a lease lapse (the database's clock decides)
WAIT = 30.0


class Instance:
    """One instance's monitor and lease loop on its own database thread."""

    def __init__(self, path: Path, name: str, counties: frozenset[str] | None = None) -> None:
        self.db = quick_thread(path)
        self.monitor = Monitor(city(), ScriptedRunner(), self.db,  # type: ignore[arg-type]
                               ownership=Ownership(name, counties))
        self.keeper = LeaseKeeper(self.db, self.monitor, city, ttl=TTL, every=3600.0)
        self.changes: list[tuple[set[str], set[str]]] = []
        self.keeper.listeners.append(lambda taken, lost: self.changes.append((taken, lost)))

    @property
    def active(self) -> frozenset[str]:
        assert self.monitor.ownership is not None
        return self.monitor.ownership.counties()

    async def until_active(self, counties: set[str]) -> None:
        """Claim rounds (as the loop would run them) until active for ``counties``."""
        deadline = time.monotonic() + WAIT
        while self.active != counties:
            assert time.monotonic() < deadline, f"still active for {set(self.active)}"
            await self.keeper.round()
            await asyncio.sleep(0.05)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Instance, Instance]]:
    a, b = Instance(tmp_path / "nw.db", "a"), Instance(tmp_path / "nw.db", "b")
    try:
        yield a, b
    finally:
        for instance in (a, b):
            await instance.monitor.writes.close()
            instance.db.close()


async def test_takeover_adopts_open_faults_and_fences_the_old_active(
        tmp_path: Path, pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    with Store.open(tmp_path / "nw.db") as store:
        episode = fault(store, "cam-9", 1000.0, county="west")  # open before either started
    await a.keeper.start()
    await b.keeper.start()
    assert a.active == {"east", "west"} and b.active == frozenset()
    assert a.monitor.ownership is not None and a.monitor.ownership.leading
    assert b.keeper.roles() == {"east": "standby", "west": "standby"}
    assert a.monitor.faults["cam-9"]["unreachable"].first_seen == 1000.0

    a.keeper._task.cancel()  # type: ignore[union-attr]  # kill -9: no release, no more rounds
    await b.until_active({"east", "west"})
    adopted = b.monitor.faults["cam-9"]["unreachable"]
    assert (adopted.first_seen, adopted.episode_id) == (1000.0, episode)
    assert b.monitor.ownership is not None and b.monitor.ownership.leading
    assert b.monitor.writes.pending == 0  # the hand-over itself wrote no change
    gaps = await b.db.call(gaps_within, 0.0, time.time() + 60, time.time())
    assert {(g.county, g.reason) for g in gaps} == {("east", GapReason.NO_ACTIVE),
                                                    ("west", GapReason.NO_ACTIVE)}

    # the old active comes back (SIGCONT): its round finds the leases moved on
    await a.keeper.round()
    assert a.active == frozenset() and a.monitor.faults == {}
    assert a.changes[-1] == (set(), {"east", "west", DUTIES})
    assert not a.monitor.ownership.leading
    # and a write it still had in hand is refused by the database
    ep_count = await b.db.call(lambda s: s.scalar("SELECT count(*) FROM fault_episodes"))
    a.monitor.ownership.generations["west"] = 1  # as if it had not noticed yet
    stale = a.monitor._batch({}, "west")
    stale.closed.append((adopted, time.time(), "recovered"))
    a.monitor.writes.add(stale)
    assert await a.monitor.writes.flush(5.0)  # dropped, not kept for retry
    assert await b.db.call(lambda s: s.scalar(
        "SELECT count(*) FROM fault_episodes WHERE closed_at IS NULL")) == 1
    assert await b.db.call(lambda s: s.scalar("SELECT count(*) FROM fault_episodes")) == ep_count


async def test_a_clean_stop_hands_over_at_once_and_records_the_gap(
        pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    await a.keeper.start()
    await b.keeper.start()
    await a.keeper.stop()  # releases: b need not wait for the lease to expire
    assert a.active == frozenset()
    await b.keeper.round()
    assert b.active == {"east", "west"}
    held = await b.db.call(leases)
    assert {s: (lease.holder, lease.generation) for s, lease in held.items()} == {
        "east": ("b", 2), "west": ("b", 2), DUTIES: ("b", 2)}


async def test_counties_split_between_instances(tmp_path: Path) -> None:
    east = Instance(tmp_path / "nw.db", "e", frozenset({"east"}))
    west = Instance(tmp_path / "nw.db", "w", frozenset({"west"}))
    try:
        await east.keeper.start()
        await west.keeper.start()
        assert (east.active, west.active) == ({"east"}, {"west"})
        assert east.keeper.roles() == {"east": "active"}
        families = {f.spec.name: f for f in west.keeper.families()}
        assert "netwatch_county_active" in families
        # the duties went to the first that asked; the other runs none
        assert east.monitor.ownership is not None and west.monitor.ownership is not None
        assert east.monitor.ownership.leading != west.monitor.ownership.leading
    finally:
        for instance in (east, west):
            await instance.keeper.stop()
            instance.db.close()


async def test_no_round_for_a_lease_stands_by_by_its_own_clock(tmp_path: Path) -> None:
    """The store away past the lease: the instance stops calling itself active before any
    other instance may take over (its lease counted from the last good round's start)."""
    one = Instance(tmp_path / "nw.db", "one")
    try:
        await one.keeper.start()
        assert one.active == {"east", "west"}
        one.db.close()  # every call now fails: StoreUnavailable
        deadline = time.monotonic() + WAIT
        while one.active:
            assert time.monotonic() < deadline
            await one.keeper.round()
            await asyncio.sleep(0.05)
        assert one.changes[-1][1] == {"east", "west", DUTIES}
    finally:
        await one.monitor.writes.close()


def test_the_keeper_needs_an_ownership(tmp_path: Path) -> None:
    db = StoreThread.open(tmp_path / "nw.db")
    try:
        monitor = Monitor(city(), ScriptedRunner(), db)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="ownership"):
            LeaseKeeper(db, monitor, city)
    finally:
        db.close()


async def test_a_county_a_reload_removes_is_let_go(tmp_path: Path) -> None:
    one = Instance(tmp_path / "nw.db", "one")
    try:
        await one.keeper.start()
        assert one.active == {"east", "west"}
        smaller = city(*[d for d in city().devices if d.county == "east"])
        one.keeper.inventory = lambda: replace(smaller, counties={
            "east": smaller.counties["east"]})
        await one.keeper.round()
        assert one.active == {"east"}
        west = (await one.db.call(leases))["west"]
        assert west.released is not None  # free at once for whoever watches it now
    finally:
        await one.keeper.stop()
        one.db.close()
