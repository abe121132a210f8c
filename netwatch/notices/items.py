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
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory
from netwatch.notices.calendar import iso, local_date
from netwatch.notices.candidates import episode_candidates
from netwatch.notices.record import Acknowledgement, Candidate
from netwatch.store import FaultLog, Store

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
    with store.transaction():
        return sync_in(store, inventory, now, extra, coverage_judged)


def _refresh(c: Candidate) -> tuple[object, ...]:
    return (c.name, c.kind, c.location, c.severity, json.dumps(c.evidence, sort_keys=True),
            c.episode_id, c.suppressed_children, c.refers_to)


_REFRESH = ("name = ?, kind = ?, location = ?, severity = ?, evidence = ?, episode_id = ?, "
            "suppressed_children = ?, refers_to = ?")
_REOPEN = ("state = 'open', recurrence = recurrence + 1, rectified_at = NULL, closed_at = NULL, "
           "close_reason = NULL, deadline = NULL, first_seen = ?, rectify_within_days = ?, "
           "ack_note = NULL, ack_promised = NULL, ack_at = NULL, ack_by = NULL, ")


def sync_in(store: Store, inventory: Inventory, now: float,
            extra: Sequence[Candidate] = (), coverage_judged: bool = False) -> SyncReport:
    """The module docstring's rules, inside the caller's transaction.

    Blind-spot items (points and cells) are only judged when ``coverage_judged``
    says ``extra`` holds the coverage verdicts; otherwise they are left as they are.
    """
    conn = store.conn
    if not conn.in_transaction:
        raise RuntimeError("sync_in runs inside a transaction")
    settings = inventory.notices
    episodes = FaultLog(store).open_episodes()
    candidates = episode_candidates(episodes, inventory, now) + list(extra)
    present: set[Key] = {("device", e.device, e.fault) for e in episodes}
    present |= {(c.subject_type, c.subject, c.problem) for c in extra}
    judged = {"device", "point", "cell"} if coverage_judged else {"device"}
    live = {(r["subject_type"], r["subject"], r["problem"]): r for r in conn.execute(
        "SELECT * FROM notice_items WHERE state != 'closed'")}
    counts = dict.fromkeys(("opened", "reopened", "rectified", "closed", "removed"), 0)
    seen: set[Key] = set()
    for c in candidates:
        key = (c.subject_type, c.subject, c.problem)
        seen.add(key)
        row = live.get(key)
        if row is not None and row["state"] == "open":
            conn.execute(f"UPDATE notice_items SET {_REFRESH} WHERE id = ?",
                         (*_refresh(c), row["id"]))
            continue
        if row is None:
            row = conn.execute(
                "SELECT id FROM notice_items WHERE subject_type = ? AND subject = ? "
                "AND problem = ? AND close_reason = 'verified' AND rectified_at >= ? "
                "ORDER BY closed_at DESC LIMIT 1",
                (*key, now - settings.recurrence_window_seconds)).fetchone()
        if row is not None:
            conn.execute(f"UPDATE notice_items SET {_REOPEN}{_REFRESH} WHERE id = ?",
                         (c.first_seen, c.rectify_within_days, *_refresh(c), row["id"]))
            counts["reopened"] += 1
            continue
        conn.execute(
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
            conn.execute("UPDATE notice_items SET state = 'closed', close_reason = 'removed', "
                         "closed_at = ? WHERE id = ?", (now, row["id"]))
            counts["removed"] += 1
            continue
        if key in present:
            continue  # still failing, only suppressed or not yet past grace
        rectified_at = row["rectified_at"]
        if row["state"] == "open":
            rectified_at = _fixed_at(conn, key, now)
            conn.execute("UPDATE notice_items SET state = 'rectified', rectified_at = ? "
                         "WHERE id = ?", (rectified_at, row["id"]))
            counts["rectified"] += 1
        if now - rectified_at >= settings.verification_window_seconds:
            conn.execute("UPDATE notice_items SET state = 'closed', close_reason = 'verified', "
                         "closed_at = ? WHERE id = ?", (now, row["id"]))
            counts["closed"] += 1
    return SyncReport(**counts)


def _fixed_at(conn: sqlite3.Connection, key: Key, now: float) -> float:
    """When a device's fault closed as recovered (the latest time), else now."""
    if key[0] != "device":
        return now
    row = conn.execute(
        "SELECT max(closed_at) FROM fault_episodes WHERE device = ? AND fault = ? "
        "AND close_reason = 'recovered'", key[1:]).fetchone()
    return float(row[0]) if row[0] is not None else now


def item_county(conn: sqlite3.Connection, item_id: int) -> str | None:
    """The item's county (for the caller's scope check), None when there is no such item."""
    row = conn.execute("SELECT county FROM notice_items WHERE id = ?", (item_id,)).fetchone()
    return None if row is None else str(row[0])


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
    with store.transaction(durable=True) as conn:
        row = conn.execute("SELECT state FROM notice_items WHERE id = ?", (item_id,)).fetchone()
        if row is None:
            raise LookupError(f"notice item {item_id}: no such item")
        if row["state"] == "closed":
            raise AckError(f"notice item {item_id} is closed; nothing to acknowledge")
        conn.execute("UPDATE notice_items SET ack_note = ?, ack_promised = ?, ack_at = ?, "
                     "ack_by = ? WHERE id = ?", (text, day.isoformat(), now, by, item_id))
    return Acknowledgement(note=text, promised=day.isoformat(), at=iso(now, zone), by=by)
