"""Heartbeats and monitoring gaps: the time from a watcher's last beat to its next start."""

from __future__ import annotations

from pathlib import Path

from netwatch.monitor.watched import (
    STALE_AFTER,
    Gap,
    beat,
    gap_totals,
    gaps_within,
    resume_watching,
    stop_watching,
)
from netwatch.store import Store
from netwatch.vocab import GapReason


def test_first_start_is_no_gap_and_a_restart_after_a_clean_stop_is(store: Store) -> None:
    """A first start has nothing to compare with; a stop at 1100 and a start at 8300 leave
    the 2 hours between as a gap of every county."""
    assert resume_watching(store, 1000.0) is None
    beat(store, 1060.0)
    stop_watching(store, 1100.0)
    gap = resume_watching(store, 8300.0)
    assert gap == Gap(1100.0, 8300.0, GapReason.DAEMON_DOWN, None)
    assert gaps_within(store, 0.0, 10_000.0, now=8400.0) == [gap]
    assert gap_totals(store) == {"daemon_down": (1, 7200.0)}


def test_a_crash_is_a_gap_from_the_last_beat(tmp_path: Path) -> None:
    """No clean stop (kill -9): the gap starts at the last beat, and it survives the store
    being reopened (a new process)."""
    with Store.open(tmp_path / "nw.db") as store:
        resume_watching(store, 1000.0)
        beat(store, 1060.0)
        beat(store, 1120.0)
    with Store.open(tmp_path / "nw.db") as store:
        assert resume_watching(store, 1500.0) == Gap(1120.0, 1500.0, GapReason.DAEMON_DOWN)


def test_gaps_overlapping_a_period_only(store: Store) -> None:
    """A gap ending at or before the period's start, or starting at its end, is not in it."""
    resume_watching(store, 0.0)
    stop_watching(store, 100.0)
    resume_watching(store, 200.0)
    stop_watching(store, 300.0)
    resume_watching(store, 400.0)
    assert [(g.started, g.ended) for g in gaps_within(store, 200.0, 400.0, now=400.0)] == [
        (300.0, 400.0)]
    assert [(g.started, g.ended) for g in gaps_within(store, 150.0, 350.0, now=400.0)] == [
        (100.0, 200.0), (300.0, 400.0)]
    assert gaps_within(store, 200.0, 300.0, now=400.0) == []


def test_while_no_watcher_watches_the_gap_is_open(store: Store) -> None:
    """Stopped cleanly, or silent past STALE_AFTER: the time since the last beat is a gap
    still open (a notice issued now counts it neither way); a fresh beat is none."""
    resume_watching(store, 1000.0)
    beat(store, 1060.0)
    assert gaps_within(store, 0.0, 1100.0, now=1100.0) == []  # beat 40 s ago: watching
    late = 1060.0 + STALE_AFTER + 1
    assert gaps_within(store, 0.0, late, now=late) == [
        Gap(1060.0, late, GapReason.DAEMON_DOWN)]  # a crash nobody restarted yet
    stop_watching(store, 1080.0)
    assert gaps_within(store, 0.0, 1090.0, now=1090.0) == [
        Gap(1080.0, 1090.0, GapReason.DAEMON_DOWN)]
    assert gaps_within(store, 0.0, 1070.0, now=1090.0) == []  # the period ended before it


def test_a_database_no_daemon_ran_on_has_no_gaps(store: Store) -> None:
    assert gaps_within(store, 0.0, 1e10, now=1e10) == []
    assert gap_totals(store) == {}
