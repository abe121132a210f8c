"""The notice items' lifecycle: open → rectified → closed, reopened when the problem returns.

``sync_in`` brings ``notice_items`` in line with the faults (and, when given, the
coverage verdicts) at one moment:
- a candidate with no live item opens one, or reopens the last item of the same
  subject and problem that was rectified within the recurrence window
  (recurrence + 1, listed again as new);
- a rectified item whose problem is back reopens the same way;
- an open item whose problem is gone (no open fault episode at all, suppressed or
  not) becomes rectified at the time its fault closed;
- a rectified item that stayed healthy for the verification window is closed
  (``verified``);
- an item whose device or point left the inventory is closed (``removed``),
  never rectified.
Acknowledgements record a county's note and promised date; they never change a state.

This module owns the ``notice_items`` table: issuing, the web pages, the command
line, the metrics and the retention duty read and change items through it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory
from netwatch.notices.calendar import iso, local_date
from netwatch.notices.candidates import episode_candidates
from netwatch.notices.record import Acknowledgement, Candidate
from netwatch.store import Handle, Row, Store, Transaction, last_recovery, open_episodes

NOTE_MAX = 500
PROMISE_MAX_DAYS = 365
Key = tuple[str, str, str]  # subject type, subject, problem


class AckError(ValueError):
    """An acknowledgement that cannot be recorded; the message is for the user."""


@dataclass(frozen=True, slots=True)
class SyncReport:
    """How many items one sync opened, reopened, rectified, verified and removed."""

    opened: int = 0
    reopened: int = 0
    rectified: int = 0
    closed: int = 0
    removed: int = 0


def sync_items(store: Store, inventory: Inventory, now: float,
               extra: Sequence[Candidate] = (), coverage_judged: bool = False) -> SyncReport:
    """``sync_in`` in a transaction of its own (the daemon's periodic call)."""
    with store.transaction() as tx:
        return sync_in(tx, inventory, now, extra, coverage_judged)


def _refresh(c: Candidate) -> tuple[object, ...]:
    return (c.name, c.kind, c.location, c.severity, json.dumps(c.evidence, sort_keys=True),
            c.episode_id, c.suppressed_children, c.refers_to)


_REFRESH = ("name = ?, kind = ?, location = ?, severity = ?, evidence = ?, episode_id = ?, "
            "suppressed_children = ?, refers_to = ?")
_REOPEN = ("state = 'open', recurrence = recurrence + 1, rectified_at = NULL, closed_at = NULL, "
           "close_reason = NULL, deadline = NULL, first_seen = ?, rectify_within_days = ?, "
           "ack_note = NULL, ack_promised = NULL, ack_at = NULL, ack_by = NULL, ")


def sync_in(tx: Transaction, inventory: Inventory, now: float,
            extra: Sequence[Candidate] = (), coverage_judged: bool = False) -> SyncReport:
    """The module docstring's rules, inside the caller's transaction.

    Blind-spot items (points and cells) are only judged when ``coverage_judged``
    says ``extra`` holds the coverage verdicts; otherwise they are left as they are.
    """
    if not tx.active:
        raise RuntimeError("sync_in runs inside a transaction")
    settings = inventory.notices
    episodes = open_episodes(tx)
    candidates = episode_candidates(episodes, inventory, now) + list(extra)
    present: set[Key] = {("device", e.device, e.fault) for e in episodes}
    present |= {(c.subject_type, c.subject, c.problem) for c in extra}
    judged = {"device", "point", "cell"} if coverage_judged else {"device"}
    live = {(r["subject_type"], r["subject"], r["problem"]): r for r in tx.execute(
        "SELECT * FROM notice_items WHERE state != 'closed'")}
    counts = dict.fromkeys(("opened", "reopened", "rectified", "closed", "removed"), 0)
    seen: set[Key] = set()
    for c in candidates:
        key = (c.subject_type, c.subject, c.problem)
        seen.add(key)
        row = live.get(key)
        if row is not None and row["state"] == "open":
            tx.execute(f"UPDATE notice_items SET {_REFRESH} WHERE id = ?",
                       (*_refresh(c), row["id"]))
            continue
        if row is None:
            row = tx.one(
                "SELECT id FROM notice_items WHERE subject_type = ? AND subject = ? "
                "AND problem = ? AND close_reason = 'verified' AND rectified_at >= ? "
                "ORDER BY closed_at DESC LIMIT 1",
                (*key, now - settings.recurrence_window_seconds))
        if row is not None:
            tx.execute(f"UPDATE notice_items SET {_REOPEN}{_REFRESH} WHERE id = ?",
                       (c.first_seen, c.rectify_within_days, *_refresh(c), row["id"]))
            counts["reopened"] += 1
            continue
        tx.execute(
            "INSERT INTO notice_items (subject_type, subject, county, problem, name, kind, "
            "location, severity, state, first_seen, created_at, rectify_within_days, evidence, "
            "episode_id, suppressed_children, refers_to) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)",
            (c.subject_type, c.subject, c.county, c.problem, c.name, c.kind, c.location,
             c.severity, c.first_seen, now, c.rectify_within_days,
             json.dumps(c.evidence, sort_keys=True), c.episode_id, c.suppressed_children,
             c.refers_to))
        counts["opened"] += 1
    devices = {d.id for d in inventory.devices}
    points = {p.id for p in inventory.points}
    for key, row in live.items():
        if key in seen or key[0] not in judged:
            continue
        if (key[0] == "device" and key[1] not in devices) or (
                key[0] == "point" and key[1] not in points):
            tx.execute("UPDATE notice_items SET state = 'closed', close_reason = 'removed', "
                       "closed_at = ? WHERE id = ?", (now, row["id"]))
            counts["removed"] += 1
            continue
        if key in present:
            continue  # still failing, only suppressed or not yet past grace
        rectified_at = row["rectified_at"]
        if row["state"] == "open":
            rectified_at = _fixed_at(tx, key, now)
            tx.execute("UPDATE notice_items SET state = 'rectified', rectified_at = ? "
                       "WHERE id = ?", (rectified_at, row["id"]))
            counts["rectified"] += 1
        if now - rectified_at >= settings.verification_window_seconds:
            tx.execute("UPDATE notice_items SET state = 'closed', close_reason = 'verified', "
                       "closed_at = ? WHERE id = ?", (now, row["id"]))
            counts["closed"] += 1
    return SyncReport(**counts)


def _fixed_at(db: Handle, key: Key, now: float) -> float:
    """When a device's fault closed as recovered (the latest time), else now."""
    if key[0] != "device":
        return now
    at = last_recovery(db, key[1], key[2])
    return at if at is not None else now


def item_county(db: Handle, item_id: int) -> str | None:
    """The item's county (for the caller's scope check), None when there is no such item."""
    county = db.scalar("SELECT county FROM notice_items WHERE id = ?", (item_id,))
    return None if county is None else str(county)


def to_report(db: Handle, county: str) -> list[Row]:
    """The county's items a notice lists: open ones, and rectified ones an earlier notice
    gave a deadline (every column)."""
    return db.query("SELECT * FROM notice_items WHERE county = ? AND "
                    "(state = 'open' OR (state = 'rectified' AND deadline IS NOT NULL))",
                    (county,))


def set_deadlines(tx: Transaction, deadlines: Mapping[int, str]) -> None:
    """Fix the deadline (YYYY-MM-DD) of items a notice lists for the first time."""
    for item_id, due in deadlines.items():
        tx.execute("UPDATE notice_items SET deadline = ? WHERE id = ?", (due, item_id))


def current_items(db: Handle, ids: Collection[int]) -> dict[int, Row]:
    """The named items as they stand now, by id (``id``, ``subject``, ``problem``, ``state``,
    ``close_reason``, ``recurrence``, ``deadline``, ``ack_note``, ``ack_promised``)."""
    if not ids:
        return {}
    return {r["id"]: r for r in db.execute(
        "SELECT id, subject, problem, state, close_reason, recurrence, deadline, ack_note, "
        f"ack_promised FROM notice_items WHERE id IN ({', '.join('?' * len(ids))})",
        tuple(ids))}


def open_per_county(db: Handle, today: str) -> dict[str, tuple[int, int]]:
    """Per county with open items: how many are open and how many of those are past their
    deadline on ``today`` (YYYY-MM-DD)."""
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT county, count(*), "
        "sum(CASE WHEN deadline IS NOT NULL AND deadline < ? THEN 1 ELSE 0 END) "
        "FROM notice_items WHERE state = 'open' GROUP BY county", (today,))}


def items_of_month(db: Handle, start: float, end: float) -> list[Row]:
    """The items whose life overlaps [start, end) (a month the circular reports on), as
    they stand now: ``county``, ``subject_type``, ``state``, ``close_reason``,
    ``recurrence``, ``first_seen``, ``created_at``, ``rectified_at``, ``closed_at``,
    ``deadline``."""
    return db.query(
        "SELECT county, subject_type, state, close_reason, recurrence, first_seen, created_at, "
        "rectified_at, closed_at, deadline FROM notice_items "
        "WHERE created_at < ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY id",
        (end, start))


def cited_episodes(db: Handle) -> set[int]:
    """The fault episodes some item refers to: an issued notice's evidence, kept forever."""
    return {int(r[0]) for r in db.execute(
        "SELECT DISTINCT episode_id FROM notice_items WHERE episode_id IS NOT NULL")}


def acknowledge(store: Store, item_id: int, note: str, promised: str, by: str, now: float,
                timezone: str = "Asia/Shanghai") -> Acknowledgement:
    """Record a county's acknowledgement (note and promised repair date); the state stays."""
    text = note.strip() if isinstance(note, str) else ""
    if not text:
        raise AckError("note: must not be empty")
    if len(text) > NOTE_MAX:
        raise AckError(f"note: {len(text)} characters, at most {NOTE_MAX}")
    zone = ZoneInfo(timezone)
    try:
        day = date.fromisoformat(promised) if isinstance(promised, str) else None
    except ValueError:
        day = None
    if day is None or len(promised) != 10:
        raise AckError(f"promised_date: {str(promised)[:40]!r} is not a date (YYYY-MM-DD)")
    today = local_date(now, zone)
    if day < today:
        raise AckError(f"promised_date: {day} is before today ({today})")
    if day > today + timedelta(days=PROMISE_MAX_DAYS):
        raise AckError(f"promised_date: {day} is more than {PROMISE_MAX_DAYS} days ahead")
    with store.transaction(durable=True) as tx:
        state = tx.scalar("SELECT state FROM notice_items WHERE id = ?", (item_id,))
        if state is None:
            raise LookupError(f"notice item {item_id}: no such item")
        if state == "closed":
            raise AckError(f"notice item {item_id} is closed; nothing to acknowledge")
        tx.execute("UPDATE notice_items SET ack_note = ?, ack_promised = ?, ack_at = ?, "
                     "ack_by = ? WHERE id = ?", (text, day.isoformat(), now, by, item_id))
    return Acknowledgement(note=text, promised=day.isoformat(), at=iso(now, zone), by=by)
