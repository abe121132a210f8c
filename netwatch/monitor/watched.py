"""What was watched and when: a notice's rates count measured time only.

This module owns three tables:

- ``monitored_since``: each device's first settled check (``record_first_checks``,
  from the county's active instance); the earliest time wins, so a restart or a
  failover never moves a device's start later, and an infinite time stands for
  "checked, not yet settled" (no time counts yet). The notices' summary reads them
  all (``monitored_since``).
- ``monitoring_gaps``: time nothing watched a county (``county`` None: every county).
  The leases (``netwatch.monitor.leases``) record a county's gap when an instance
  takes it over, from its previous holder's last renewal or clean stop (``record_gap``).
- ``watch_heartbeat``: what versions without leases kept instead (one beat a minute of
  the one daemon). The first lease round on such a database turns the time since that
  beat into a gap of every county and empties it (``settle_legacy_beat``); until then
  a stopped or stale beat is a gap still open (``recorded_gaps``).

A gap ends when an instance takes the county, before its first sweep: a device's
first check after it comes within one sweep interval, the resolution every rate has
anyway. A database no instance ran on has no lease, hence no gaps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netwatch.store import Handle, Store, Transaction
from netwatch.vocab import GapReason

STALE_AFTER = 180.0  # seconds: a heartbeat (one a minute) older than this is a daemon gone


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


def record_gap(tx: Transaction, gap: Gap) -> None:
    """Keep a span nothing watched (in the caller's transaction: a lease's takeover)."""
    tx.execute("INSERT INTO monitoring_gaps (county, started, ended, reason) "
               "VALUES (?, ?, ?, ?)", (gap.county, gap.started, gap.ended, gap.reason))


def settle_legacy_beat(tx: Transaction, now: float) -> None:
    """A database last watched by a version without leases: its daemon's heartbeat says
    until when it watched; the time since is a gap of every county, and the beat goes
    (leases say who watches from now on)."""
    last = tx.scalar("SELECT max(beat) FROM watch_heartbeat")
    if last is not None and now > last:
        record_gap(tx, Gap(float(last), now, GapReason.DAEMON_DOWN))
    tx.execute("DELETE FROM watch_heartbeat")


def recorded_gaps(db: Handle, start: float, end: float, now: float) -> list[Gap]:
    """The recorded gaps overlapping [start, end], oldest first; while a database last
    watched by a version without leases has a heartbeat that stopped (or went stale),
    the time since it is a gap still open, of every county."""
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


def county_gap_seconds(db: Handle, counties: Iterable[str]) -> dict[str, float]:
    """Per county, the seconds its recorded gaps and every county's cover, overlaps once."""
    spans: dict[str | None, list[tuple[float, float]]] = {}
    for county, started, ended in db.tuples(
            "SELECT county, started, ended FROM monitoring_gaps ORDER BY started"):
        spans.setdefault(county, []).append((float(started), float(ended)))
    every = spans.get(None, [])
    return {county: _covered(sorted([*every, *spans.get(county, [])])) for county in counties}


def _covered(spans: list[tuple[float, float]]) -> float:
    """The length of the union of sorted spans."""
    total, end = 0.0, float("-inf")
    for started, ended in spans:
        if ended > end:
            total += ended - max(started, end)
            end = ended
    return total
