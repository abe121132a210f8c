"""Leases: one active writer per county, takeovers after expiry, fencing, and the gaps
nobody watched (recorded at a takeover, open while a lease lies lapsed)."""

from __future__ import annotations

import pytest

from netwatch.monitor import (
    DUTIES,
    Fenced,
    Gap,
    claim,
    gap_totals,
    gaps_within,
    lapse_all,
    leases,
    release,
)
from netwatch.monitor.leases import check, guard
from netwatch.store import Store, guarded
from netwatch.vocab import GapReason

BOTH_ENGINES = True
TTL = 30.0


def test_the_first_instance_takes_every_free_lease_and_the_second_stands_by(store: Store) -> None:
    a = claim(store, "a", {"north", "south", DUTIES}, {}, TTL, now=1000.0)
    assert a.held == {"north": 1, "south": 1, DUTIES: 1}
    assert a.taken == {"north": None, "south": None, DUTIES: None}  # no gap: nobody watched
    b = claim(store, "b", {"north", "south", DUTIES}, {}, TTL, now=1001.0)
    assert b.held == {} and set(b.others) == {"north", "south", DUTIES}
    assert b.others["north"].holder == "a"
    assert gaps_within(store, 0.0, 2000.0, now=1001.0) == []


def test_renewal_keeps_the_generation_and_pushes_expiry(store: Store) -> None:
    claim(store, "a", {"north"}, {}, TTL, now=1000.0)
    again = claim(store, "a", {"north"}, {"north": 1}, TTL, now=1025.0)
    assert again.held == {"north": 1} and again.taken == {}
    lease = leases(store)["north"]
    assert (lease.renewed, lease.expires, lease.generation) == (1025.0, 1055.0, 1)
    # the standby may not take it before it expires, by the database's clock
    assert claim(store, "b", {"north"}, {}, TTL, now=1054.0).held == {}


def test_a_lapsed_lease_is_taken_over_with_the_gap_since_its_last_renewal(store: Store) -> None:
    """kill -9 of the active at 1010 (its last renewal): the standby takes over once the
    lease expires (1040), and 1010..1041 is a gap of that county, nobody active."""
    claim(store, "a", {"north", "south"}, {}, TTL, now=1000.0)
    claim(store, "a", {"north", "south"}, {"north": 1, "south": 1}, TTL, now=1010.0)
    b = claim(store, "b", {"north"}, {}, TTL, now=1041.0)
    assert b.held == {"north": 2}
    assert b.taken == {"north": Gap(1010.0, 1041.0, GapReason.NO_ACTIVE, "north")}
    assert gap_totals(store) == {"no_active": (1, 31.0)}
    # the old active comes back (SIGCONT): its renewal is refused, the county is lost
    old = claim(store, "a", {"north", "south"}, {"north": 1, "south": 1}, TTL, now=1042.0)
    assert old.lost == ["north"] and old.held == {"south": 1}


def test_a_lease_renewed_after_it_lapsed_keeps_the_lapse_as_a_gap(store: Store) -> None:
    """The active paused (SIGSTOP) from its renewal at 1010 to 1100, nobody taking over:
    its next round renews the lease it still holds, and 1010..1100, which a notice issued
    during the pause counted as unwatched, stays a gap (its own: daemon_down)."""
    claim(store, "a", {"north", DUTIES}, {}, TTL, now=1000.0)
    claim(store, "a", {"north", DUTIES}, {"north": 1, DUTIES: 1}, TTL, now=1010.0)
    during = Gap(1010.0, 1090.0, GapReason.DAEMON_DOWN, "north")
    assert gaps_within(store, 0.0, 1090.0, now=1090.0) == [during]
    back = claim(store, "a", {"north", DUTIES}, {"north": 1, DUTIES: 1}, TTL, now=1100.0)
    assert back.held == {"north": 1, DUTIES: 1} and back.lost == []
    assert gaps_within(store, 0.0, 1200.0, now=1120.0) == [
        Gap(1010.0, 1100.0, GapReason.DAEMON_DOWN, "north")]
    assert gap_totals(store) == {"daemon_down": (1, 90.0)}  # the duties are no county
    claim(store, "a", {"north", DUTIES}, {"north": 1, DUTIES: 1}, TTL, now=1125.0)
    assert gap_totals(store) == {"daemon_down": (1, 90.0)}  # a timely renewal: no gap


def test_a_restart_of_the_same_instance_takes_its_own_lease_at_once(store: Store) -> None:
    """Same name (its host and port): its old self is gone, no need to wait for expiry; the
    time it was down is its own gap, and the generation moves on (fencing the old self)."""
    claim(store, "a", {"north"}, {}, TTL, now=1000.0)
    again = claim(store, "a", {"north"}, {}, TTL, now=1020.0)
    assert again.held == {"north": 2}
    assert again.taken == {"north": Gap(1000.0, 1020.0, GapReason.DAEMON_DOWN, "north")}


def test_a_clean_stop_frees_the_lease_at_once(store: Store) -> None:
    claim(store, "a", {"north", DUTIES}, {}, TTL, now=1000.0)
    release(store, "a", {"north": 1, DUTIES: 1}, now=1005.0)
    b = claim(store, "b", {"north", DUTIES}, {}, TTL, now=1006.0)
    assert b.held == {"north": 2, DUTIES: 2}
    assert b.taken["north"] == Gap(1005.0, 1006.0, GapReason.NO_ACTIVE, "north")
    assert b.taken[DUTIES] is None  # the duties are no county: no gap


def test_while_a_lease_lies_lapsed_its_county_is_an_open_gap(store: Store) -> None:
    claim(store, "a", {"north", "south"}, {}, 90.0, now=1000.0)
    claim(store, "a", {"south"}, {"south": 1}, 90.0, now=1080.0)  # north no longer renewed
    assert gaps_within(store, 0.0, 1020.0, now=1020.0) == []  # north's lease still runs
    assert gaps_within(store, 0.0, 1200.0, now=1200.0) == [
        Gap(1000.0, 1200.0, GapReason.DAEMON_DOWN, "north"),
        Gap(1080.0, 1200.0, GapReason.DAEMON_DOWN, "south")]
    assert gaps_within(store, 0.0, 900.0, now=1200.0) == []  # the period ended before


def test_fencing_refuses_a_write_of_a_generation_that_moved_on(store: Store) -> None:
    claim(store, "a", {"north"}, {}, TTL, now=1000.0)
    with store.transaction() as tx:
        check(tx, "a", {"north": 1})  # still held
    claim(store, "b", {"north"}, {}, TTL, now=1100.0)  # a's lease lapsed: b took it
    with pytest.raises(Fenced, match="north"), store.transaction() as tx:
        check(tx, "a", {"north": 1})
    with pytest.raises(Fenced):  # a scope never held (generation 0) is refused too
        with store.transaction() as tx:
            check(tx, "b", {"south": 0})


def test_a_guarded_store_refuses_the_whole_transaction(store: Store) -> None:
    """The guard runs first in the transaction: nothing of a fenced write lands."""
    claim(store, "a", {"north"}, {}, TTL, now=1000.0)
    claim(store, "b", {"north"}, {}, TTL, now=1100.0)
    store.guard = guard("a", {"north": 1})
    try:
        with pytest.raises(Fenced), store.transaction() as tx:
            tx.execute("INSERT INTO schedule_runs (job, ran_at) VALUES ('x', 1.0)")
    finally:
        store.guard = None
    assert store.scalar("SELECT count(*) FROM schedule_runs") == 0


async def test_calls_under_guarded_carry_the_guard_to_the_database_thread(db) -> None:  # type: ignore[no-untyped-def]
    await db.call(claim, "a", {"north"}, {}, TTL, 1000.0)
    await db.call(claim, "b", {"north"}, {}, TTL, 1100.0)
    with guarded(guard("a", {"north": 1})), pytest.raises(Fenced):
        await db.call(claim, "a", {"south"}, {}, TTL, 1101.0)
    # outside the guard the same call goes through
    assert (await db.call(claim, "a", {"south"}, {}, TTL, 1102.0)).held == {"south": 1}


def test_a_database_watched_by_a_version_without_leases(store: Store) -> None:
    """Its daemon's last beat (1120) to the first lease round (1500) is a gap of every
    county, and the beat is gone: leases say who watches from now on."""
    with store.transaction() as tx:  # what migration 7's daemon left
        tx.execute("INSERT INTO watch_heartbeat (watcher, beat, stopped) VALUES "
                   "('daemon', 1120.0, NULL)")
    assert gaps_within(store, 0.0, 1400.0, now=1400.0) == [
        Gap(1120.0, 1400.0, GapReason.DAEMON_DOWN)]  # stale beat: an open gap already
    claim(store, "a", {"north"}, {}, TTL, now=1500.0)
    assert gaps_within(store, 0.0, 1520.0, now=1520.0) == [
        Gap(1120.0, 1500.0, GapReason.DAEMON_DOWN)]
    assert store.scalar("SELECT count(*) FROM watch_heartbeat") == 0


def test_the_database_clock_decides(store: Store) -> None:
    """Without ``now`` the database's own clock stamps the lease (the hosts' never)."""
    before = store.clock()
    claim(store, "a", {"north"}, {}, TTL)
    lease = leases(store)["north"]
    assert before <= lease.renewed <= store.clock()
    assert lease.expires == pytest.approx(lease.renewed + TTL)


def test_a_restored_backups_leases_are_free_from_their_last_renewal(store: Store) -> None:
    """A backup taken while "a" held the county: after ``netwatch restore`` nobody holds it,
    the next instance takes it at once, and the time since the backup is the gap."""
    claim(store, "a", {"north"}, {}, TTL, now=1000.0)
    assert lapse_all(store) == 1
    b = claim(store, "b", {"north"}, {}, TTL, now=1010.0)  # inside a's old lease: taken
    assert b.taken == {"north": Gap(1000.0, 1010.0, GapReason.NO_ACTIVE, "north")}
