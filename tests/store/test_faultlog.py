"""Fault episodes on both engines: open/update/close, restarts, one open per fault, queries."""

from __future__ import annotations

import pytest

from netwatch.store import Episode, FaultLog, FaultLogError, NewEpisode, Store, Target


def new(device: str, fault: str = "unreachable", county: str = "xingan", kind: str = "camera",
        at: float = 1000.0, suppressed_by: str | None = None) -> NewEpisode:
    return NewEpisode(device=device, county=county, kind=kind, fault=fault, first_seen=at - 120,
                      opened_at=at, suppressed_by=suppressed_by, detail="3 failed cycles")


def test_open_update_close_round_trip(store: Store) -> None:
    """Opened episodes get ids; updates change suppression and detail; closing records why."""
    log = FaultLog(store)
    [a, b] = log.apply([new("cam-1"), new("cam-2", suppressed_by="sw-1")], [], [])
    assert isinstance(a.id, int) and a.id != b.id
    assert (a.device, a.first_seen, a.opened_at, a.closed_at) == ("cam-1", 880.0, 1000.0, None)
    assert b.suppressed_by == "sw-1"
    assert log.apply([], [(b.id, None, "now its own fault")], [(a.id, 1300.0, "recovered")]) == []
    [still_open] = log.open_episodes()
    assert still_open == Episode(b.id, "cam-2", "xingan", "camera", "unreachable", 880.0, 1000.0,
                                 None, None, None, "now its own fault")
    [closed] = log.query(state="closed")
    assert (closed.id, closed.closed_at, closed.close_reason) == (a.id, 1300.0, "recovered")


def test_open_episodes_survive_reopen(target: Target) -> None:
    """Open episodes, with their first-seen times, are there after the store is reopened."""
    with Store.open(target) as s:
        [opened] = FaultLog(s).apply([new("site-1", "uplink_down", kind="trunking_site")], [], [])
    with Store.open(target) as s:
        assert FaultLog(s).open_episodes() == [opened]
        assert opened.first_seen == 880.0


def test_second_open_episode_for_same_fault_fails(store: Store) -> None:
    """A second open episode for one device and fault raises and rolls back the whole batch."""
    log = FaultLog(store)
    [first] = log.apply([new("cam-1")], [], [])
    with pytest.raises(FaultLogError, match="'cam-1' already has an open 'unreachable' episode"):
        log.apply([new("cam-3"), new("cam-1", at=2000.0)], [], [])
    assert [e.device for e in log.open_episodes()] == ["cam-1"]
    # a different fault of the same device, and a reopen after closing, are fine
    log.apply([new("cam-1", "service_down")], [], [])
    [again] = log.apply([new("cam-1", at=3000.0)], [], [(first.id, 2500.0, "recovered")])
    assert again.id != first.id
    assert len(log.query(state="all")) == 3


def test_closing_or_updating_a_closed_episode_fails(store: Store) -> None:
    """Closing or updating an episode that is not open is a caller bug, and the batch is undone."""
    log = FaultLog(store)
    [ep] = log.apply([new("cam-1")], [], [])
    log.apply([], [], [(ep.id, 1100.0, "removed")])
    with pytest.raises(FaultLogError, match=f"cannot close fault episode {ep.id}: not open"):
        log.apply([new("cam-2")], [], [(ep.id, 1200.0, "recovered")])
    with pytest.raises(FaultLogError, match="cannot update fault episode 999: not open"):
        log.apply([], [(999, None, "")], [])
    with pytest.raises(ValueError, match="close reason 'fixed'"):
        log.apply([], [], [(ep.id, 1200.0, "fixed")])
    assert log.open_episodes() == []
    assert log.query(state="closed")[0].close_reason == "removed"


def test_query_filters(store: Store) -> None:
    """Queries filter by counties, kind, fault and state, newest first, up to the limit."""
    log = FaultLog(store)
    eps = log.apply([
        new("cam-1", at=1.0), new("cam-2", county="linhe", at=2.0),
        new("site-1", "uplink_slow", kind="trunking_site", at=3.0),
        new("sw-1", county="shiqiao", kind="switch", at=4.0),
    ], [], [])
    log.apply([], [], [(eps[3].id, 5.0, "recovered")])

    def ids(found: list[Episode]) -> list[str]:
        return [e.device for e in found]

    assert ids(log.query()) == ["site-1", "cam-2", "cam-1"]
    assert ids(log.query(counties={"xingan"})) == ["site-1", "cam-1"]
    assert ids(log.query(counties=[])) == []
    assert ids(log.query(kind="camera")) == ["cam-2", "cam-1"]
    assert ids(log.query(state="closed")) == ["sw-1"]
    assert ids(log.query(state="all", limit=2)) == ["sw-1", "site-1"]
    assert ids(log.query(counties=["linhe", "shiqiao"], state="all")) == ["sw-1", "cam-2"]
    assert ids(log.query(fault="uplink_slow")) == ["site-1"]
    assert ids(log.query(fault="unreachable", state="all")) == ["sw-1", "cam-2", "cam-1"]
    with pytest.raises(ValueError, match="state 'gone'"):
        log.query(state="gone")  # type: ignore[arg-type]


def test_evidence_is_stored_with_the_episode(store: Store) -> None:
    """An episode keeps the evidence it opened with (failed checks, last good time, figures)."""
    log = FaultLog(store)
    found = {"failed_checks": ["icmp: timeout"], "last_good": 870.0, "figures": {"x": 1.0}}
    [ep] = log.apply([NewEpisode("cam-1", "xingan", "camera", "unreachable", 880.0, 1000.0,
                                 None, "", found)], [], [])
    assert ep.evidence == found
    assert log.open_episodes()[0].evidence == found
