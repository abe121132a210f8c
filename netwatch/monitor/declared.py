"""Outages the counties declare (停机报备): the one owner of their three tables.

A declaration names a county's devices and a span; inside it the county's planned work
is not its fault: probes go on measuring, faults first seen inside it are marked
``declared`` and become no notice item, and its time is taken out of the online rates
and reported apart. It never excuses the past: it starts no earlier than it is made,
and a fault first seen before its start stays what it was. Every declaration, change and
cancellation is kept in the append-only audit table (schema: ``declared_outages``,
``declared_outage_devices``, ``declared_outage_audit``): rows are only ever inserted
there, in the same transaction as the change they record.

The rules (docs/notices.md, "Declared outages"):

- ``declare``: the devices are resolved when it is made (a list of ids, ``under`` a
  device: it and everything below it in the parent tree, or every device of a ``site``),
  all of them the county's. Its start is not before now (a start up to ``CLAMP`` seconds
  in the past, a form filled in slowly, is taken as now), at most ``max_ahead`` ahead; its
  end after its start, at most ``max_length`` later. It may not overlap a live
  declaration (neither cancelled nor ended) sharing a device, and with a county's monthly
  cap it may not take any calendar month (the city's time zone) past it.
- ``shorten_declaration`` moves a county's own declaration's end earlier, never before
  now nor to its start; ``end_declaration`` ends it now. Ending one that has not begun
  withdraws it: it is kept as cancelled at that moment by the county (audit action
  ``end``) and covers nothing.
- ``cancel_declaration``: an admin's only; it stops covering anything from then on.

Refusals are a ``Refused`` with a ``Refusal`` the web maps to its status. ``DeclaredView``
is the monitor's copy of the declarations live now, refreshed from the store (so an
instance sees those posted to any instance over a shared database).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from netwatch.inventory import Inventory
from netwatch.store import DatabaseError, Handle, Store, StoreThread, Transaction

log = logging.getLogger(__name__)

REASONS: tuple[str, ...] = ("power", "roadworks", "relocation", "other")
SELECTORS: tuple[str, ...] = ("devices", "under", "site")
ACTIONS: tuple[str, ...] = ("declare", "shorten", "end", "cancel")
CLAMP = 60.0  # seconds a start (or a new end) may lie in the past and be taken as now
NOTE_MAX = 500  # characters of a declaration's note
DEVICES_MAX = 10_000  # devices one declaration may name or resolve to
HORIZON = 3600.0  # the monitor's view holds the declarations starting within this
REFRESH_EVERY = 5.0  # seconds between the monitor's reads of the declarations
READ_WAIT = 1.0  # seconds a sweep waits for that read before going on with the old view
_CHUNK = 500


class Refusal(StrEnum):
    """Why a declaration or a change is refused; the web maps each to its HTTP status."""

    INVALID = "invalid"  # a field's value (``detail["field"]`` names it)
    UNKNOWN_DEVICE = "unknown_device"  # a device (or site) the inventory does not have
    OUTSIDE_SCOPE = "outside_scope"  # devices of another county
    NOT_FOUND = "not_found"  # no such declaration, or another county's
    FORBIDDEN = "forbidden"  # only an admin cancels
    FINISHED = "finished"  # it has already ended or been cancelled
    OVERLAP = "overlap"  # a live declaration shares a device and overlaps in time
    CAP = "cap"  # the county's monthly cap would be exceeded


class Refused(Exception):
    """A declaration or change refused as a whole; nothing was written."""

    def __init__(self, refusal: Refusal, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Declaration:
    """One declared outage as stored (times are Unix seconds)."""

    id: int
    county: str
    selector: dict[str, Any]
    devices: frozenset[str]
    starts: float
    ends: float
    reason: str  # REASONS
    note: str
    made_at: float
    made_by: str
    cancelled_at: float | None = None
    cancelled_by: str | None = None

    @property
    def until(self) -> float:
        """When it stops covering anything: its end, or its cancellation if earlier."""
        return min(self.ends, self.cancelled_at if self.cancelled_at is not None else math.inf)

    def covers(self, device: str, when: float) -> bool:
        return device in self.devices and self.starts <= when < self.until

    def state(self, now: float) -> str:
        """upcoming, active, ended or cancelled (a withdrawn one too), as of ``now``."""
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.starts:
            return "upcoming"
        return "active" if now < self.ends else "ended"

    def seconds_within(self, start: float, end: float) -> float:
        """How long it covered (or will cover) of [start, end)."""
        return max(0.0, min(self.until, end) - max(self.starts, start))


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One row of a declaration's audit trail: what was done, by whom, when."""

    id: int
    outage_id: int
    action: str  # ACTIONS
    at: float
    actor: str  # a token id (never a token)
    ends_before: float | None
    ends_after: float | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: a token id (``via`` says whether by API or a browser session) and the
    counties it may act for (None: an admin, every county)."""

    id: str
    counties: frozenset[str] | None
    via: str = "api"

    @property
    def admin(self) -> bool:
        return self.counties is None

    def may(self, county: str) -> bool:
        return self.counties is None or county in self.counties


_COLUMNS = ("id, county, selector, starts, ends, reason, note, made_at, made_by, "
            "cancelled_at, cancelled_by")


def _declarations(db: Handle, where: str, params: list[Any],
                  order: str = "id") -> list[Declaration]:
    rows = db.query(f"SELECT {_COLUMNS} FROM declared_outages WHERE {where} ORDER BY {order}",
                    params)
    if not rows:
        return []
    devices: dict[int, set[str]] = defaultdict(set)
    ids = [int(r[0]) for r in rows]
    for lo in range(0, len(ids), _CHUNK):
        part = ids[lo:lo + _CHUNK]
        marks = ", ".join("?" * len(part))
        for outage_id, device in db.tuples(
                "SELECT outage_id, device FROM declared_outage_devices "
                f"WHERE outage_id IN ({marks})", part):
            devices[int(outage_id)].add(device)
    return [Declaration(int(r[0]), r[1], json.loads(r[2]), frozenset(devices[int(r[0])]),
                        float(r[3]), float(r[4]), r[5], r[6], float(r[7]), r[8],
                        None if r[9] is None else float(r[9]), r[10]) for r in rows]


def declarations_within(db: Handle, start: float, end: float,
                        county: str | None = None) -> list[Declaration]:
    """The declarations that cover some of [start, end), cancelled ones included while
    they covered it, oldest first; of one county, or of all."""
    where = "starts < ? AND ends > ? AND (cancelled_at IS NULL OR cancelled_at > starts) " \
            "AND (cancelled_at IS NULL OR cancelled_at > ?)"
    params: list[Any] = [end, start, start]
    if county is not None:
        where += " AND county = ?"
        params.append(county)
    return _declarations(db, where, params)


def declared_totals(db: Handle, county: str, start: float,
                    end: float) -> tuple[int, float]:
    """How many declarations covered some of [start, end) in the county and for how many
    seconds in all, each clipped to the span (a cancelled one until its cancellation)."""
    found = declarations_within(db, start, end, county)
    return len(found), sum(d.seconds_within(start, end) for d in found)


def declaration(db: Handle, outage_id: int) -> Declaration | None:
    """One declaration by id, None when there is none."""
    found = _declarations(db, "id = ?", [outage_id])
    return found[0] if found else None


def find_declarations(db: Handle, counties: Collection[str] | None = None,
                      start: float | None = None, end: float | None = None,
                      limit: int = 1000) -> list[Declaration]:
    """Declarations of these counties (None: all) whose span meets [start, end) where given,
    newest first, at most ``limit``."""
    where: list[str] = ["1 = 1"]
    params: list[Any] = []
    if counties is not None:
        if not counties:
            return []
        where.append(f"county IN ({', '.join('?' * len(counties))})")
        params += sorted(counties)
    if start is not None:
        where.append("ends > ?")
        params.append(start)
    if end is not None:
        where.append("starts < ?")
        params.append(end)
    return _declarations(db, " AND ".join(where), params, f"id DESC LIMIT {int(limit)}")


def audit_trail(db: Handle, outage_id: int) -> list[AuditEntry]:
    """Every recorded action on one declaration, oldest first."""
    rows = db.query("SELECT id, outage_id, action, at, actor, ends_before, ends_after, detail "
                    "FROM declared_outage_audit WHERE outage_id = ? ORDER BY id", (outage_id,))
    return [AuditEntry(int(r[0]), int(r[1]), r[2], float(r[3]), r[4],
                       None if r[5] is None else float(r[5]),
                       None if r[6] is None else float(r[6]), json.loads(r[7])) for r in rows]


def _audit(tx: Transaction, outage_id: int, action: str, at: float, actor: Actor,
           ends_before: float | None, ends_after: float | None, **detail: Any) -> None:
    """Append one audit row (the only statement ever run on the audit table besides reads)."""
    tx.execute("INSERT INTO declared_outage_audit (outage_id, action, at, actor, ends_before, "
               "ends_after, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (outage_id, action, at, actor.id, ends_before, ends_after,
                json.dumps({"via": actor.via, **detail}, ensure_ascii=False, sort_keys=True)))


# -- declaring ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wanted:
    """A declaration as asked for, before the rules: a selector, a span, a reason."""

    county: str
    selector: Mapping[str, Any]  # exactly one of SELECTORS
    starts: float
    ends: float
    reason: str
    note: str = ""


def resolve(inventory: Inventory, county: str, selector: Mapping[str, Any]) -> list[str]:
    """The device ids a selector names now, all the county's (else ``Refused``)."""
    given = [k for k in SELECTORS if selector.get(k) not in (None, "", [])]
    unknown_keys = sorted(set(selector) - set(SELECTORS))
    if unknown_keys or len(given) != 1:
        raise Refused(Refusal.INVALID, "name the devices: exactly one of devices (a list of "
                      "ids), under (a switch or other parent) or site", field="devices")
    key = given[0]
    value = selector[key]
    by_id = {d.id: d for d in inventory.devices}
    if key == "devices":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Refused(Refusal.INVALID, "devices: expected a list of device ids",
                          field="devices")
        ids = list(dict.fromkeys(value))
        missing = [i for i in ids if i not in by_id]
        if missing:
            raise Refused(Refusal.UNKNOWN_DEVICE, "unknown device", field="devices",
                          devices=missing[:50])
    elif key == "under":
        if not isinstance(value, str) or value not in by_id:
            raise Refused(Refusal.UNKNOWN_DEVICE, "unknown device", field="under",
                          devices=[str(value)[:100]])
        children: dict[str, list[str]] = defaultdict(list)
        for d in inventory.devices:
            if d.parent:
                children[d.parent].append(d.id)
        ids, queue, seen = [], [value], {value}
        while queue:
            current = queue.pop(0)
            ids.append(current)
            for child in children.get(current, ()):
                if child not in seen:
                    seen.add(child)
                    queue.append(child)
    else:
        if not isinstance(value, str):
            raise Refused(Refusal.INVALID, "site: expected a site name", field="site")
        ids = [d.id for d in inventory.devices if d.site == value]
        if not ids:
            raise Refused(Refusal.UNKNOWN_DEVICE, "no device at this site", field="site",
                          site=value[:100])
    if len(ids) > DEVICES_MAX:
        raise Refused(Refusal.INVALID, f"at most {DEVICES_MAX} devices per declaration",
                      field=key)
    outside = [i for i in ids if by_id[i].county != county]
    if outside:
        raise Refused(Refusal.OUTSIDE_SCOPE, "devices of another county", field=key,
                      devices=outside[:50])
    return ids


def _check_span(inventory: Inventory, wanted: Wanted, now: float) -> tuple[float, float]:
    """The declaration's (start, end) under the rules: the start clamped to now when just
    past, else refused naming the field."""
    settings = inventory.outages
    starts, ends = wanted.starts, wanted.ends
    if not (math.isfinite(starts) and math.isfinite(ends)):
        raise Refused(Refusal.INVALID, "start and end must be times", field="start")
    if starts < now - CLAMP:
        raise Refused(Refusal.INVALID, "start: before now; a declaration never covers the "
                      "past", field="start")
    starts = max(starts, now)
    if starts > now + settings.max_ahead_seconds:
        raise Refused(Refusal.INVALID, "start: too far ahead", field="start",
                      max_ahead_seconds=settings.max_ahead_seconds)
    if ends <= starts:
        raise Refused(Refusal.INVALID, "end: must be after the start", field="end")
    if ends - starts > settings.max_length_seconds:
        raise Refused(Refusal.INVALID, "end: the outage is too long", field="end",
                      max_length_seconds=settings.max_length_seconds)
    return starts, ends


def _check_reason(wanted: Wanted) -> None:
    if wanted.reason not in REASONS:
        raise Refused(Refusal.INVALID, "reason: unknown", field="reason", known=list(REASONS))
    if not isinstance(wanted.note, str) or len(wanted.note) > NOTE_MAX:
        raise Refused(Refusal.INVALID, f"note: text of at most {NOTE_MAX} characters",
                      field="note")
    if wanted.reason == "other" and not wanted.note.strip():
        raise Refused(Refusal.INVALID, "note: say what the work is when the reason is other",
                      field="note")


def _overlapping(db: Handle, devices: list[str], starts: float, ends: float, now: float,
                 but: int | None = None) -> list[int]:
    """Live declarations (neither cancelled nor ended) sharing a device with ``devices`` and
    overlapping [starts, ends), oldest first."""
    found: set[int] = set()
    for lo in range(0, len(devices), _CHUNK):
        part = devices[lo:lo + _CHUNK]
        marks = ", ".join("?" * len(part))
        for (outage_id,) in db.tuples(
                "SELECT DISTINCT d.id FROM declared_outages d JOIN declared_outage_devices v "
                "ON v.outage_id = d.id WHERE d.cancelled_at IS NULL AND d.ends > ? "
                f"AND d.starts < ? AND d.ends > ? AND v.device IN ({marks})",
                [now, ends, starts, *part]):
            found.add(int(outage_id))
    found.discard(but if but is not None else -1)
    return sorted(found)


def months(starts: float, ends: float, zone: ZoneInfo) -> list[tuple[float, float]]:
    """The calendar months (in ``zone``) that [starts, ends) touches, as [start, end) spans."""
    out = []
    local = datetime.fromtimestamp(starts, zone)
    month = datetime(local.year, local.month, 1, tzinfo=zone)
    while month.timestamp() < ends:
        following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1,
                             tzinfo=zone)
        out.append((month.timestamp(), following.timestamp()))
        month = following
    return out


def _check_cap(db: Handle, inventory: Inventory, county: str, starts: float,
               ends: float) -> None:
    """Refuse when the county's monthly cap would be exceeded in any month touched."""
    cap = inventory.counties[county].outage_cap_hours
    if cap is None:
        return
    for lo, hi in months(starts, ends, ZoneInfo(inventory.timezone)):
        used = sum(d.seconds_within(lo, hi) for d in declarations_within(db, lo, hi, county))
        adding = min(ends, hi) - max(starts, lo)
        if used + adding > cap * 3600.0 + 1e-6:
            raise Refused(Refusal.CAP, "over the county's monthly cap of declared outages",
                          cap_hours=cap, used_hours=round(used / 3600.0, 2),
                          asked_hours=round(adding / 3600.0, 2),
                          month=datetime.fromtimestamp(lo, ZoneInfo(inventory.timezone))
                          .strftime("%Y-%m"))


def declare(store: Store, inventory: Inventory, wanted: Wanted, actor: Actor,
            now: float) -> Declaration:
    """Record a declaration under the rules (module docstring), with its audit row, in one
    transaction; ``Refused`` and nothing written otherwise."""
    if wanted.county not in inventory.counties:
        raise Refused(Refusal.INVALID, "county: unknown", field="county")
    if not actor.may(wanted.county):
        raise Refused(Refusal.OUTSIDE_SCOPE, "county outside this token's scope",
                      field="county", counties=[wanted.county])
    _check_reason(wanted)
    starts, ends = _check_span(inventory, wanted, now)
    devices = resolve(inventory, wanted.county, wanted.selector)
    selector = {k: wanted.selector[k] for k in SELECTORS if k in wanted.selector}
    with store.transaction(durable=True) as tx:
        clash = _overlapping(tx, devices, starts, ends, now)
        if clash:
            raise Refused(Refusal.OVERLAP, f"overlaps declaration {clash[0]}",
                          declaration=clash[0], declarations=clash)
        _check_cap(tx, inventory, wanted.county, starts, ends)
        outage_id = int(tx.scalar(
            "INSERT INTO declared_outages (county, selector, starts, ends, reason, note, "
            "made_at, made_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (wanted.county, json.dumps(selector, ensure_ascii=False, sort_keys=True), starts,
             ends, wanted.reason, wanted.note, now, actor.id)))
        tx.executemany("INSERT INTO declared_outage_devices (outage_id, device) VALUES (?, ?)",
                       [(outage_id, d) for d in devices])
        _audit(tx, outage_id, "declare", now, actor, None, ends, starts=starts,
               devices=len(devices), selector=selector)
    return Declaration(outage_id, wanted.county, selector, frozenset(devices), starts, ends,
                       wanted.reason, wanted.note, now, actor.id)


# -- changing -------------------------------------------------------------------------


def _own(tx: Transaction, outage_id: int, actor: Actor, now: float) -> Declaration:
    """The declaration the actor may change: visible to it, neither cancelled nor ended."""
    found = declaration(tx, outage_id)
    if found is None or not actor.may(found.county):
        raise Refused(Refusal.NOT_FOUND, "no such declaration", id=outage_id)
    if found.cancelled_at is not None:
        raise Refused(Refusal.FINISHED, "the declaration was cancelled", id=outage_id)
    if found.ends <= now:
        raise Refused(Refusal.FINISHED, "the declaration has already ended", id=outage_id)
    return found


def _withdraw_or_end(tx: Transaction, found: Declaration, actor: Actor,
                     now: float) -> Declaration:
    """End it now; one not begun yet is withdrawn (kept as cancelled now, covering
    nothing)."""
    if now <= found.starts:
        tx.execute("UPDATE declared_outages SET cancelled_at = ?, cancelled_by = ? "
                   "WHERE id = ?", (now, actor.id, found.id))
        _audit(tx, found.id, "end", now, actor, found.ends, None, withdrawn=True)
        return replace(found, cancelled_at=now, cancelled_by=actor.id)
    tx.execute("UPDATE declared_outages SET ends = ? WHERE id = ?", (now, found.id))
    _audit(tx, found.id, "end", now, actor, found.ends, now)
    return replace(found, ends=now)


def end_declaration(store: Store, outage_id: int, actor: Actor, now: float) -> Declaration:
    """End a declaration now (a county's own, or any for an admin); see the module docstring."""
    with store.transaction(durable=True) as tx:
        return _withdraw_or_end(tx, _own(tx, outage_id, actor, now), actor, now)


def shorten_declaration(store: Store, outage_id: int, new_end: float, actor: Actor,
            now: float) -> Declaration:
    """Move a declaration's end earlier (never later, never before now: a new end up to
    ``CLAMP`` seconds past is now, which ends it)."""
    with store.transaction(durable=True) as tx:
        found = _own(tx, outage_id, actor, now)
        if not math.isfinite(new_end) or new_end < now - CLAMP:
            raise Refused(Refusal.INVALID, "end: before now", field="end")
        if new_end >= found.ends:
            raise Refused(Refusal.INVALID, "end: a declaration is only ever shortened",
                          field="end", ends=found.ends)
        if new_end <= now:
            return _withdraw_or_end(tx, found, actor, now)
        if new_end <= found.starts:
            raise Refused(Refusal.INVALID, "end: must be after the start (end the declaration "
                          "to withdraw it)", field="end")
        tx.execute("UPDATE declared_outages SET ends = ? WHERE id = ?", (new_end, found.id))
        _audit(tx, found.id, "shorten", now, actor, found.ends, new_end)
        return replace(found, ends=new_end)


def cancel_declaration(store: Store, outage_id: int, actor: Actor, now: float,
           note: str = "") -> Declaration:
    """An admin cancels a declaration: it covers nothing from now on."""
    if not actor.admin:
        raise Refused(Refusal.FORBIDDEN, "only an admin cancels a declaration", id=outage_id)
    with store.transaction(durable=True) as tx:
        found = _own(tx, outage_id, actor, now)
        tx.execute("UPDATE declared_outages SET cancelled_at = ?, cancelled_by = ? "
                   "WHERE id = ?", (now, actor.id, found.id))
        _audit(tx, found.id, "cancel", now, actor, found.ends, None, note=note[:NOTE_MAX])
        return replace(found, cancelled_at=now, cancelled_by=actor.id)


# -- the monitor's view ----------------------------------------------------------------


MARK = "declared#"  # suppressed_by of a declared fault: MARK + the declaration's id; "#"
# is in no inventory id, so no device (a failing parent) can read as one


def declared_mark(outage_id: int) -> str:
    return f"{MARK}{outage_id}"


def declared_id(suppressed_by: str | None) -> int | None:
    """The declaration a fault's mark names, None for any other mark."""
    if suppressed_by is None or not suppressed_by.startswith(MARK):
        return None
    number = suppressed_by[len(MARK):]
    return int(number) if number.isascii() and number.isdigit() else None


class DeclaredView:
    """The declarations live now or starting soon, as the monitor consults them.

    Read from the store through the database thread, at most every ``REFRESH_EVERY``
    seconds on the sweep path (a sweep waits ``READ_WAIT`` at most: a slow database leaves
    it the previous view, and the read lands when it does), and at once after a write of
    this instance (``refresh(force=True)``). The store away keeps the last view.
    """

    def __init__(self, db: StoreThread, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock
        self.by_device: dict[str, tuple[Declaration, ...]] = {}
        self.loaded_at = -math.inf
        self._reading: asyncio.Task[None] | None = None

    def _take(self, found: Iterable[Declaration], at: float) -> None:
        by_device: dict[str, list[Declaration]] = defaultdict(list)
        for d in found:
            for device in d.devices:
                by_device[device].append(d)
        self.by_device = {k: tuple(sorted(v, key=lambda d: (d.starts, d.id)))
                          for k, v in by_device.items()}
        self.loaded_at = at

    async def _read(self) -> None:
        at = self.clock()
        try:
            found = await self.db.call(declarations_within, at, at + HORIZON)
        except DatabaseError as exc:  # the store away, or the database thread's queue full
            log.debug("declared outages not read (the previous view stands): %s", exc)
            return
        self._take(found, at)

    async def refresh(self, force: bool = False) -> None:
        """Read the declarations again when due (or ``force``); see the class docstring."""
        if not force and abs(self.clock() - self.loaded_at) < REFRESH_EVERY:
            return
        if force or self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self._read())
        done, _ = await asyncio.wait({self._reading}, timeout=None if force else READ_WAIT)
        if not done:
            log.debug("declared outages: the read is slow; this sweep keeps the last view")

    def active(self, device: str, now: float) -> tuple[tuple[int, float], ...]:
        """(id, start) of the declarations covering the device now, earliest start first."""
        return tuple((d.id, d.starts) for d in self.by_device.get(device, ())
                     if d.starts <= now < d.until)

    def devices_now(self, now: float) -> set[str]:
        """Every device a declaration covers now."""
        return {device for device, found in self.by_device.items()
                if any(d.starts <= now < d.until for d in found)}
