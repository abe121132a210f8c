"""What was watched and when: a notice's rates count measured time only.

This module owns three tables:

- ``monitored_since``: each device's first settled check (``record_first_checks``,
  from the daemon); the earliest time wins, so a restart never moves a device's
  start later, and an infinite time stands for "checked, not yet settled" (no time
  counts yet). The notices' summary reads them all (``monitored_since``).
- ``watch_heartbeat``: each watcher (``netwatch run`` is ``DAEMON``) says it is
  watching: ``resume_watching`` at its start, ``beat`` every ``HEARTBEAT_SECONDS``,
  ``stop_watching`` on a clean stop.
- ``monitoring_gaps``: time nothing watched. At a watcher's start, the time from its
  last beat (its clean stop, or the last beat before a crash) to now is a gap of every
  county (``county`` None, reason ``daemon_down``); a later gap of one county names
  it. While no watcher is watching (stopped, or its beat older than ``STALE_AFTER``)
  the time since its last beat is a gap still open (``gaps_within`` adds it), so a
  notice issued while the daemon is down counts that time neither.

A gap ends when the watcher starts again, before its first sweep: a device's first
check after it comes within one sweep interval, the resolution every rate has anyway.
A database no daemon ran on has no heartbeat, hence no gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netwatch.store import Handle, Store
from netwatch.vocab import GapReason

DAEMON = "daemon"  # the watcher name of ``netwatch run`` (one per database)
HEARTBEAT_SECONDS = 60.0  # a watcher's beat: one UPDATE a minute, not one per sweep
STALE_AFTER = 3 * HEARTBEAT_SECONDS  # a beat older than this: the watcher is gone


@dataclass(frozen=True, slots=True)
class Gap:
    """A span of time nothing watched, of one county or (None) of every county."""

    started: float  # Unix seconds
    ended: float
    reason: str  # a GapReason
    county: str | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def record_first_checks(store: Store, firsts: Sequence[tuple[str, float]]) -> None:
    """Keep each (device, first check) unless the device has an earlier one; one transaction."""
    with store.transaction() as tx:
        tx.executemany(
            "INSERT INTO monitored_since (device, since) VALUES (?, ?) "
            "ON CONFLICT (device) DO UPDATE SET since = CASE "
            "WHEN excluded.since < monitored_since.since THEN excluded.since "
            "ELSE monitored_since.since END", firsts)


def monitored_since(db: Handle) -> dict[str, float]:
    """Every device's recorded start of monitoring (Unix seconds; inf: not settled yet)."""
    return {r[0]: r[1] for r in db.execute("SELECT device, since FROM monitored_since")}


def resume_watching(store: Store, now: float, watcher: str = DAEMON) -> Gap | None:
    """A watcher starts: the time since its last beat is a gap (recorded and returned);
    none on its first start ever. It is watching from ``now``."""
    with store.transaction() as tx:
        last = tx.scalar("SELECT beat FROM watch_heartbeat WHERE watcher = ?", (watcher,))
        gap = None
        if last is not None and now > last:
            gap = Gap(float(last), now, GapReason.DAEMON_DOWN)
            tx.execute("INSERT INTO monitoring_gaps (county, started, ended, reason) "
                       "VALUES (?, ?, ?, ?)", (gap.county, gap.started, gap.ended, gap.reason))
        tx.execute("INSERT INTO watch_heartbeat (watcher, beat, stopped) VALUES (?, ?, NULL) "
                   "ON CONFLICT (watcher) DO UPDATE SET beat = excluded.beat, stopped = NULL",
                   (watcher, now))
    return gap


def beat(store: Store, now: float, watcher: str = DAEMON) -> None:
    """The watcher is still watching at ``now``."""
    store.execute("UPDATE watch_heartbeat SET beat = ? WHERE watcher = ?", (now, watcher))


def stop_watching(store: Store, now: float, watcher: str = DAEMON) -> None:
    """A clean stop: the watcher watched until ``now`` and no longer."""
    store.execute("UPDATE watch_heartbeat SET beat = ?, stopped = ? WHERE watcher = ?",
                  (now, now, watcher))


def gaps_within(db: Handle, start: float, end: float, now: float) -> list[Gap]:
    """The gaps overlapping [start, end], oldest first, with the one still open at ``now``
    when no watcher is watching (cut to [start, end] by the caller)."""
    gaps = [Gap(r["started"], r["ended"], r["reason"], r["county"]) for r in db.query(
        "SELECT county, started, ended, reason FROM monitoring_gaps "
        "WHERE ended > ? AND started < ? ORDER BY started, id", (start, end))]
    beats = db.query("SELECT beat, stopped FROM watch_heartbeat")
    if beats and all(r["stopped"] is not None or now - r["beat"] > STALE_AFTER for r in beats):
        last = max(r["beat"] for r in beats)
        if last < min(now, end) and now > start:
            gaps.append(Gap(float(last), now, GapReason.DAEMON_DOWN))
    return gaps


def gap_totals(db: Handle) -> dict[str, tuple[int, float]]:
    """Per reason, the recorded gaps and their seconds (rows are never deleted: counters)."""
    return {r[0]: (int(r[1]), float(r[2] or 0.0)) for r in db.execute(
        "SELECT reason, count(*), sum(ended - started) FROM monitoring_gaps GROUP BY reason")}
