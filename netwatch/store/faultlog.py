"""Fault episodes in the store: what opened, changed and closed, so faults outlive a restart.

The monitor decides; this module only records. At most one episode per device and
fault is open at a time (a partial unique index): opening a second one, or
updating or closing an episode that is not open, is the caller's bug and raises
``FaultLogError`` with the whole batch rolled back.

This module owns the ``fault_episodes`` table (its ``evidence`` column too, though
the notices' migration added it): the monitor writes through ``FaultLog``; the
notices, the coverage analysis and the retention duty read and prune through the
functions here, which take any ``Handle`` (the store, or the caller's transaction).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from netwatch.store.store import Handle, IntegrityError, Row, Store, Transaction

CLOSE_REASONS: frozenset[str] = frozenset({"recovered", "removed"})
COLUMNS = ("id, device, county, kind, fault, first_seen, opened_at, closed_at, close_reason, "
           "suppressed_by, detail, evidence")


class FaultLogError(Exception):
    """A batch contradicts the recorded episodes (a bug in the caller)."""


@dataclass(frozen=True, slots=True)
class NewEpisode:
    """A fault the monitor has just opened, before it has an id."""

    device: str
    county: str
    kind: str
    fault: str
    first_seen: float  # when the failure streak that led to it began
    opened_at: float
    suppressed_by: str | None
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)  # failed_checks, last_good, figures


@dataclass(frozen=True, slots=True)
class Episode:
    """One recorded fault episode, open (``closed_at`` None) or closed."""

    id: int
    device: str
    county: str
    kind: str
    fault: str
    first_seen: float
    opened_at: float
    closed_at: float | None
    close_reason: str | None
    suppressed_by: str | None
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)


def _episode(row: Row) -> Episode:
    # The row is COLUMNS, in the fields' order; mypy assumes *row may fill every field.
    return Episode(*row[:-1], json.loads(row[-1]))  # type: ignore[call-arg]


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" * len(values))


def open_episodes(db: Handle, counties: Collection[str] | None = None) -> list[Episode]:
    """Every open episode (of ``counties``, when given), oldest first: the monitor's state
    to restore after a restart, or to adopt with a county's lease."""
    where, params = "closed_at IS NULL", tuple(counties or ())
    if counties is not None:
        if not counties:
            return []
        where += f" AND county IN ({_marks(counties)})"
    rows = db.execute(f"SELECT {COLUMNS} FROM fault_episodes WHERE {where} "
                      "ORDER BY opened_at, id", params)
    return [_episode(r) for r in rows]


def open_faults(db: Handle, faults: Collection[str]) -> dict[str, set[str]]:
    """Per device, which of ``faults`` it has open (suppressed or not)."""
    out: dict[str, set[str]] = {}
    for device, fault in db.execute(
            "SELECT device, fault FROM fault_episodes WHERE closed_at IS NULL "
            f"AND fault IN ({_marks(faults)})", tuple(faults)):
        out.setdefault(device, set()).add(fault)
    return out


def open_mark(db: Handle) -> tuple[int, int | None]:
    """How many episodes are open and the newest one's id: changes whenever one opens or closes."""
    row = db.one("SELECT count(*), max(id) FROM fault_episodes WHERE closed_at IS NULL")
    assert row is not None  # an aggregate always has a row
    return int(row[0]), row[1]


def outages(db: Handle, faults: Collection[str], start: float, end: float,
            planned: str) -> list[tuple[str, float, float | None]]:
    """(device, first seen, closed) of the ``faults`` episodes overlapping [start, end], by
    device and start; episodes suppressed by ``planned`` (maintenance) are left out."""
    rows = db.execute(
        f"SELECT device, first_seen, closed_at FROM fault_episodes "
        f"WHERE fault IN ({_marks(faults)}) AND first_seen < ? "
        "AND (closed_at IS NULL OR closed_at > ?) "
        "AND (suppressed_by IS NULL OR suppressed_by != ?) ORDER BY device, first_seen",
        (*faults, end, start, planned))
    return [(r[0], r[1], r[2]) for r in rows]


def first_seen_ever(db: Handle) -> float | None:
    """The first-seen time of the oldest episode recorded, None before any."""
    at = db.scalar("SELECT min(first_seen) FROM fault_episodes")
    return None if at is None else float(at)


def last_recovery(db: Handle, device: str, fault: str) -> float | None:
    """When the device's latest ``fault`` episode closed as recovered, None if none did."""
    at = db.scalar("SELECT max(closed_at) FROM fault_episodes WHERE device = ? AND fault = ? "
                   "AND close_reason = 'recovered'", (device, fault))
    return None if at is None else float(at)


def prune_episodes(tx: Transaction, cutoff: float, keep: Collection[int]) -> int:
    """Delete episodes closed before ``cutoff`` except those in ``keep`` (cited by a notice
    item: an issued notice's evidence); returns how many were deleted."""
    gone = [(r[0],) for r in tx.execute(
        "SELECT id FROM fault_episodes WHERE closed_at IS NOT NULL AND closed_at < ?", (cutoff,))
        if r[0] not in keep]
    return tx.executemany("DELETE FROM fault_episodes WHERE id = ?", gone) if gone else 0


def find_episodes(
    db: Handle,
    *,
    counties: Collection[str] | None = None,
    kind: str | None = None,
    fault: str | None = None,
    state: Literal["open", "closed", "all"] = "open",
    limit: int = 1000,
) -> list[Episode]:
    """Episodes for the API, newest opened first; ``counties`` None means every county."""
    if state not in ("open", "closed", "all"):
        raise ValueError(f"state {state!r}: expected open, closed or all")
    if limit < 1:
        raise ValueError(f"limit {limit}: expected a positive number")
    where: list[str] = []
    args: list[object] = []
    if counties is not None:
        if not counties:
            return []
        where.append(f"county IN ({', '.join('?' * len(counties))})")
        args.extend(counties)
    if kind is not None:
        where.append("kind = ?")
        args.append(kind)
    if fault is not None:
        where.append("fault = ?")
        args.append(fault)
    if state == "open":
        where.append("closed_at IS NULL")
    elif state == "closed":
        where.append("closed_at IS NOT NULL")
    sql = f"SELECT {COLUMNS} FROM fault_episodes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY opened_at DESC, id DESC LIMIT ?"
    rows = db.execute(sql, (*args, limit))
    return [_episode(r) for r in rows]


class FaultLog:
    """Reads and writes the ``fault_episodes`` table."""

    __slots__ = ("store",)

    def __init__(self, store: Store) -> None:
        self.store = store

    def apply(
        self,
        opened: Sequence[NewEpisode],
        updated: Sequence[tuple[int, str | None, str]],
        closed: Sequence[tuple[int, float, str]],
    ) -> list[Episode]:
        """Record one evaluation's changes atomically; returns the opened episodes with ids.

        ``updated`` is (id, suppressed_by, detail); ``closed`` is (id, closed_at, reason).
        Closes run first, so a fault may close and reopen in the same batch.
        """
        for episode_id, _, reason in closed:
            if reason not in CLOSE_REASONS:
                raise ValueError(f"episode {episode_id}: close reason {reason!r} is not one of "
                                 f"{', '.join(sorted(CLOSE_REASONS))}")
        if not (opened or updated or closed):
            return []
        result: list[Episode] = []
        with self.store.transaction() as tx:
            for episode_id, closed_at, reason in closed:
                cur = tx.execute(
                    "UPDATE fault_episodes SET closed_at = ?, close_reason = ? "
                    "WHERE id = ? AND closed_at IS NULL", (closed_at, reason, episode_id))
                if cur.rowcount != 1:
                    raise FaultLogError(f"cannot close fault episode {episode_id}: not open")
            for episode_id, suppressed_by, detail in updated:
                cur = tx.execute(
                    "UPDATE fault_episodes SET suppressed_by = ?, detail = ? "
                    "WHERE id = ? AND closed_at IS NULL", (suppressed_by, detail, episode_id))
                if cur.rowcount != 1:
                    raise FaultLogError(f"cannot update fault episode {episode_id}: not open")
            for new in opened:
                try:
                    row = tx.execute(
                        "INSERT INTO fault_episodes (device, county, kind, fault, first_seen, "
                        "opened_at, suppressed_by, detail, evidence) "
                        f"VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}",
                        (new.device, new.county, new.kind, new.fault, new.first_seen,
                         new.opened_at, new.suppressed_by, new.detail,
                         json.dumps(new.evidence, sort_keys=True)),
                    ).fetchone()
                except IntegrityError:
                    raise FaultLogError(
                        f"device {new.device!r} already has an open {str(new.fault)!r} episode"
                    ) from None
                result.append(_episode(row))
        return result

    def open_episodes(self) -> list[Episode]:
        """Every open episode, oldest first: the monitor's state to restore after a restart."""
        return open_episodes(self.store)

    def query(
        self,
        *,
        counties: Collection[str] | None = None,
        kind: str | None = None,
        fault: str | None = None,
        state: Literal["open", "closed", "all"] = "open",
        limit: int = 1000,
    ) -> list[Episode]:
        """Episodes for the API, newest opened first; ``counties`` None means every county."""
        return find_episodes(self.store, counties=counties, kind=kind, fault=fault,
                             state=state, limit=limit)
