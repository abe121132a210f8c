"""Each device's latest state in the shared store, so that any instance answers for any county.

This module owns the ``device_status`` table: one row per device, as the county's active
instance saw it last. An instance keeps faults and full results in memory only for the
counties it is active for; for the others its web API reads these rows and the open
fault episodes (``netwatch.web.api``).

``StatusWriter`` is a monitor listener (the daemon registers it). After each sweep it
compares every device of an active county the sweep touched with what the store holds
(``change_key``: up or down, the verdict's fault, reasons and findings, each check's
success and reason; never a measurement, a duration or a check's detail alone) and
writes only the devices that changed: one transaction per county with changes, on the
database thread, fenced by that county's lease (``netwatch.monitor.leases``: a write
of an instance whose lease moved on is refused whole). A county taken over (a new
lease generation, or this instance's start) has every device written once at its
first sweep, and rows of devices no longer in the county are deleted then (and after
a reload).

A sweep never waits for the store: the writer runs as a task of its own, and a write
that fails (the store away, or fenced) is not kept: those devices are simply written
again at their next sweep, since the writer then no longer knows what the store holds
for them. While the store is known away nothing is queued at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from netwatch.monitor.leases import Fenced, guard
from netwatch.monitor.monitor import Monitor
from netwatch.monitor.slices import in_slices
from netwatch.monitor.state import DeviceState
from netwatch.monitor.verdict import UP
from netwatch.runtime import stop_task, wait_done
from netwatch.store import Handle, OperationalError, Store, guarded

log = logging.getLogger(__name__)

COLUMNS = ("device, county, kind, state, up, fault, reasons, findings, checks, checked_at, "
           "last_up_at, changed_at, holder")
UPSERT = (
    f"INSERT INTO device_status ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (device) DO UPDATE SET county = excluded.county, kind = excluded.kind, "
    "changed_at = CASE WHEN device_status.state = excluded.state "
    "THEN device_status.changed_at ELSE excluded.changed_at END, "
    "state = excluded.state, up = excluded.up, fault = excluded.fault, "
    "reasons = excluded.reasons, findings = excluded.findings, checks = excluded.checks, "
    "checked_at = excluded.checked_at, last_up_at = excluded.last_up_at, "
    "holder = excluded.holder")

Change = tuple[object, ...]  # what a row says, in brief: (county, generation, change_key)


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device's row: what its county's active instance saw last."""

    device: str
    county: str
    kind: str
    state: str  # up, down or unknown (a fault is an open episode, not a state here)
    up: bool | None  # None: no verdict yet
    fault: str | None  # the latest verdict's fault kind
    reasons: tuple[str, ...]
    findings: tuple[str, ...]
    checks: dict[str, dict[str, Any]]  # check name → probe, success, reason, detail
    checked_at: float | None  # the cycle that wrote the row
    last_up_at: float | None
    changed_at: float  # since when ``state`` holds (kept while only details change)
    holder: str  # the instance that wrote it


def change_key(state: DeviceState) -> tuple[object, ...]:
    """What a device's row says, in brief: the row is written when this changes."""
    verdict = state.verdict
    if verdict is UP:  # the usual case: every check passed (success is reason ok)
        return (verdict, tuple(state.results))
    return (verdict,
            tuple([(name, r.success, r.reason) for name, r in state.results.items()]))


def status_of(state: DeviceState, holder: str, now: float) -> DeviceStatus:
    """The row of a device as its state stands (``now``: if its state word changed)."""
    device, verdict = state.device, state.verdict
    checks = {spec.name: {"probe": spec.probe, "success": r.success, "reason": str(r.reason),
                          "detail": r.detail}
              for spec in device.checks if (r := state.results.get(spec.name)) is not None}
    word, up, fault = "unknown", None, None
    reasons: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    if verdict is not None:
        word = "up" if verdict.up else "down"
        up, fault = verdict.up, verdict.fault
        reasons, findings = verdict.reasons, verdict.findings
    return DeviceStatus(device.id, device.county, device.kind, word, up, fault, reasons,
                        findings, checks, state.checked_at or None, state.last_up_at, now,
                        holder)


def write_status(store: Store, rows: Sequence[DeviceStatus], county: str | None = None,
                 devices: Collection[str] | None = None) -> int:
    """Write ``rows`` in one transaction; with ``county`` and ``devices`` (the county's
    devices now) also delete the county's rows of other devices. Returns rows deleted."""
    with store.transaction() as tx:
        tx.executemany(UPSERT, [
            (r.device, r.county, r.kind, r.state, None if r.up is None else int(r.up), r.fault,
             json.dumps(r.reasons, ensure_ascii=False), json.dumps(r.findings, ensure_ascii=False),
             json.dumps(r.checks, ensure_ascii=False), r.checked_at, r.last_up_at, r.changed_at,
             r.holder) for r in rows])
        if county is None or devices is None:
            return 0
        keep = set(devices)
        gone = [(d,) for (d,) in tx.execute("SELECT device FROM device_status WHERE county = ?",
                                            (county,)) if d not in keep]
        return tx.executemany("DELETE FROM device_status WHERE device = ?", gone) if gone else 0


def status_words(db: Handle, counties: Collection[str]) -> dict[str, str]:
    """Device → state word of the rows of ``counties`` (what filters need, and no more)."""
    if not counties:
        return {}
    marks = ", ".join("?" * len(counties))
    return {r[0]: r[1] for r in db.execute(
        f"SELECT device, state FROM device_status WHERE county IN ({marks})", tuple(counties))}


def read_status(db: Handle, devices: Collection[str]) -> dict[str, DeviceStatus]:
    """The rows of ``devices`` (a page of an answer), by device."""
    if not devices:
        return {}
    marks = ", ".join("?" * len(devices))
    return {r[0]: DeviceStatus(
        r[0], r[1], r[2], r[3], None if r[4] is None else bool(r[4]), r[5],
        tuple(json.loads(r[6])), tuple(json.loads(r[7])), json.loads(r[8]), r[9], r[10],
        float(r[11]), r[12])
        for r in db.execute(f"SELECT {COLUMNS} FROM device_status WHERE device IN ({marks})",
                            tuple(devices))}


class StatusWriter:
    """Writes the state changes of the devices of the counties this instance is active for."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        # what the store holds (or will once the writes under way land), by device
        self._known: dict[str, Change] = {}
        self._pending: dict[tuple[str, int], dict[str, tuple[Change, DeviceStatus]]] = {}
        self._generations: dict[str, int] = {}  # county → the generation last written under
        self._prune: set[str] = set()  # counties whose rows of devices gone go at the next write
        self._states = monitor.states
        self._task: asyncio.Task[None] | None = None
        self.written = 0  # rows written since start
        self.failed = 0  # rows not written (the store away, the lease moved on): written later

    def _generation(self, county: str) -> int:
        ownership = self.monitor.ownership
        return 0 if ownership is None else ownership.generations.get(county, 0)

    def _taken(self, county: str) -> int | None:
        """The generation this instance writes the county under (None: standing by); a
        new one (taken over, or at start) has its rows of devices gone deleted once."""
        if not self.monitor.active(county):
            return None
        generation = self._generation(county)
        if self._generations.get(county) != generation:
            self._generations[county] = generation
            self._prune.add(county)
        return generation

    async def on_sweep(self, key: str, touched: list[DeviceState]) -> None:
        """The monitor's listener: queue the changed devices of the active counties."""
        monitor = self.monitor
        if not monitor.db.status().up:
            return  # written at the first sweep after the store is back
        if monitor.states is not self._states:  # a reload: devices may have gone
            self._states = monitor.states
            self._known = {d: c for d, c in self._known.items() if d in self._states}
            self._prune.update(self._generations)
        holder = "" if monitor.ownership is None else monitor.ownership.holder
        now = monitor.clock()
        known, pending = self._known, self._pending
        generations: dict[str, int | None] = {}  # this sweep's, by county; None: standby
        async for part in in_slices(touched):
            for state in part:
                county = state.device.county
                if county in generations:
                    generation = generations[county]
                else:
                    generation = generations[county] = self._taken(county)
                if generation is None:
                    continue  # standing by: the county's active writes it
                change = (county, generation, change_key(state))
                device = state.device.id
                if known.get(device) == change:
                    continue
                known[device] = change
                pending.setdefault((county, generation), {})[device] = (
                    change, status_of(state, holder, now))
        if pending and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="netwatch-status-writer")

    async def _drain(self) -> None:
        """Write the queued rows, one transaction per county, until none is left."""
        monitor = self.monitor
        while self._pending:
            (county, generation), queued = next(iter(self._pending.items()))
            del self._pending[(county, generation)]
            if not monitor.active(county) or self._generation(county) != generation:
                self._forget(queued)  # its lease moved on meanwhile
                continue
            devices = None
            if county in self._prune:
                devices = [d.id for d in monitor.inventory.devices if d.county == county]
            ownership = monitor.ownership
            fence = None if ownership is None else guard(ownership.holder, {county: generation})
            rows = [row for _, row in queued.values()]
            try:
                with guarded(fence):
                    await monitor.db.call(write_status, rows, county, devices)
            except OperationalError as exc:
                log.warning("state changes of %d device(s) not recorded, the store is away: "
                            "%s; written again at their next sweep", len(rows), exc)
                self._forget(queued)
                for rest in self._pending.values():
                    self._forget(rest)
                self._pending.clear()
                return
            except Fenced as exc:
                log.warning("state changes of %d device(s) not recorded: %s", len(rows), exc)
                self._forget(queued)
                continue
            self.written += len(rows)
            if devices is not None:
                self._prune.discard(county)

    def _forget(self, queued: dict[str, tuple[Change, DeviceStatus]]) -> None:
        """Rows not written: the store's rows are unknown, so the next sweep writes them
        (unless a newer change is queued already)."""
        self.failed += len(queued)
        for device, (change, _) in queued.items():
            if self._known.get(device) == change:
                del self._known[device]

    @property
    def pending(self) -> int:
        """Rows queued and not yet written."""
        return sum(len(rows) for rows in self._pending.values())

    async def flush(self, within: float) -> None:
        """Wait (up to ``within`` s) for the rows queued to be written (at a clean stop,
        while the leases still fence them)."""
        await wait_done(self._task, within)

    async def close(self) -> None:
        """Stop writing (at shutdown)."""
        await stop_task(self._task)
