"""The monitor: sweeps groups of devices, keeps their state, opens and closes faults.

The one owner of mutable monitoring state. A group is the devices of one kind
sharing one interval; the scheduler calls ``run_group`` per group. After each
sweep: record results, re-check stale parents of devices about to open a fault
(so a child on a shorter interval cannot open before its parent is seen
failing), evaluate faults, hand the changes to the store's writer, then tell
listeners (metrics). Faults open and close in memory on the probes' word alone;
the store records them through the database thread (``writes``), and a sweep waits
for that at most ``WRITE_WAIT`` seconds, so a slow or absent database never holds
up probing.

With an ``Ownership`` (several instances over one database), faults are the monitor's
business only in the counties it is active for: there it judges, opens and closes,
and each county's changes are written under that county's lease (fenced). The
devices of the counties it stands by for are probed as its ``Shadow`` says and their
state kept, nothing judged. ``adopt`` takes a county over: its open episodes become
the monitor's faults with their first-seen times, exactly as after a restart; ``drop``
lets one go (nothing closed: the new active has the episodes).

Sampled checks (a camera's ``video``, a device's ``onvif_time``) run only when their
``Sampler`` says so, and a sample the monitor's own limits kept from running is simply
due again: it never leaves the device's cycle out as other skipped checks do.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from netwatch.inventory import Device, Inventory, MaintenanceWindow
from netwatch.monitor.capacity import Load
from netwatch.monitor.declared import DeclaredView
from netwatch.monitor.faults import (
    REMOVED,
    Changes,
    OpenFault,
    Suppression,
    evaluate,
    remark,
    suppressor,
    would_open,
)
from netwatch.monitor.ownership import Ownership
from netwatch.monitor.runner import DeviceResult, Runner
from netwatch.monitor.sampling import CLOCK, SAMPLED, HostClock, Sampler, sampled_checks
from netwatch.monitor.slices import in_slices
from netwatch.monitor.state import DeviceState, Streak
from netwatch.monitor.writes import Batch, EpisodeWriter
from netwatch.store import Episode, NewEpisode, StoreStatus, StoreThread, open_episodes
from netwatch.vocab import Fault
from probes.base import Reason

log = logging.getLogger(__name__)

# told after each sweep; may return an awaitable (work done in slices) that is awaited
GroupListener = Callable[[str, list[DeviceState]], Awaitable[None] | None]

WRITE_WAIT = 2.0  # seconds a sweep waits for its fault changes to reach the store


@dataclass(slots=True)
class Group:
    """Devices of one kind probed together at one interval."""

    key: str
    kind: str
    interval: float
    devices: list[Device] = field(default_factory=list)


@dataclass(slots=True)
class GroupStats:
    """The monitor's own health per group (exported as metrics)."""

    runs: int = 0
    overruns: int = 0  # runs that came due while the previous sweep was still going
    last_duration: float = 0.0
    last_run_at: float = 0.0  # wall time the last sweep ended
    running: bool = False
    last_skipped: dict[str, int] = field(default_factory=dict)  # latest sweep, by reason


def group_key(device: Device) -> str:
    return f"{device.kind}@{device.interval:g}s"


def build_groups(devices: Iterable[Device]) -> dict[str, Group]:
    groups: dict[str, Group] = {}
    for device in devices:
        key = group_key(device)
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, device.kind, device.interval)
        group.devices.append(device)
    return groups


def build_children(devices: Iterable[Device]) -> dict[str, list[str]]:
    """Parent id → the ids of the devices that hang under it."""
    children: dict[str, list[str]] = {}
    for device in devices:
        if device.parent:
            children.setdefault(device.parent, []).append(device.id)
    return children


@dataclass(slots=True)
class ReloadReport:
    added: int
    removed: int
    changed: int
    kept: int


class Monitor:
    """Holds inventory, per-device state and open faults; runs sweeps for the scheduler."""

    def __init__(
        self,
        inventory: Inventory,
        runner: Runner,
        db: StoreThread,
        clock: Callable[[], float] = time.time,
        ownership: Ownership | None = None,
    ) -> None:
        self.inventory = inventory
        self.ownership = ownership  # None: one instance, active for every county
        self.runner = runner
        self.db = db
        self.writes = EpisodeWriter(db)
        self.write_wait = WRITE_WAIT
        self.clock = clock
        self.states: dict[str, DeviceState] = {d.id: DeviceState(d) for d in inventory.devices}
        self.faults: dict[str, dict[str, OpenFault]] = {}
        self.groups = build_groups(inventory.devices)
        self.children = build_children(inventory.devices)
        self.stats: dict[str, GroupStats] = {key: GroupStats() for key in self.groups}
        self.listeners: list[GroupListener] = []
        self.started_at = clock()
        # every group of the first inventory swept: ready to serve from then on (a group a
        # reload adds is swept soon enough and takes none of that back)
        self.ready_once = False
        # Checks the monitor's own limits kept from a verdict, by (device kind, reason).
        self.skipped: dict[tuple[str, str], int] = {}
        self.capacity: list[Load] = []  # the inventory's load against the settings
        self.capacity_problems: list[str] = []
        self.sampler = Sampler()
        self.sampling = _sampling(inventory.devices)  # devices with sampled checks
        self.reads_clocks = _reads_clocks(inventory.devices)
        # whether netwatch's own clock may judge a device's (the daemon: ``HostClock``)
        self.host_clock: HostClock | None = None
        # the outages the counties declared (停机报备), as the store has them
        self.declared = DeclaredView(db, clock)

    # -- counties ----------------------------------------------------------------------

    def active(self, county: str) -> bool:
        """Whether this monitor judges and writes for the county."""
        return self.ownership is None or self.ownership.active(county)

    def adopt(self, county: str, generation: int, episodes: list[Episode]) -> int:
        """Take over ``county`` under the lease of ``generation``: its open ``episodes``
        (read after the lease was taken) become faults as ``restore`` makes them, and its
        devices' other streaks start over (a standby's came from its shadow checks), so
        the hand-over itself opens and closes nothing. Returns the faults adopted."""
        assert self.ownership is not None
        self.ownership.generations[county] = generation
        for state in self.states.values():
            if state.device.county == county:
                state.streaks.clear()
        return self._take(ep for ep in episodes if ep.county == county)

    def drop(self, county: str) -> None:
        """Stand by for ``county`` (its lease moved on, or lapsed): forget its faults and
        their changes not yet written, closing nothing; the new active has them."""
        if self.ownership is not None:
            self.ownership.generations.pop(county, None)
        for device in [d for d, by_kind in self.faults.items()
                       if next(iter(by_kind.values())).county == county]:
            del self.faults[device]
        self.writes.drop(county)

    # -- faults ------------------------------------------------------------------------

    async def restore(self) -> int:
        """Re-open the faults recorded as open (a restart keeps first-seen times).

        Each gets a streak of its kind, as if the condition had just held: a device
        repaired while the daemon was down closes its fault after ``close_after`` good
        cycles (without one, nothing would ever count the fault's condition absent).
        """
        await self.declared.refresh(force=True)
        restored = self._take(await self.db.call(open_episodes))
        await self.writes.settle(self.write_wait)
        return restored

    def _take(self, episodes: Iterable[Episode]) -> int:
        """Open episodes become faults (those of devices gone close as removed), then
        re-marked as the restored parents' faults say now, not as when they were saved."""
        gone = Changes()
        taken = []
        for ep in episodes:
            fault = _from_episode(ep)
            state = self.states.get(ep.device)
            if state is None:
                gone.closed.append((fault, REMOVED))
                continue
            self.faults.setdefault(ep.device, {})[ep.fault] = fault
            state.streaks.setdefault(Fault(ep.fault), Streak(since=ep.first_seen))
            taken.append(state)
        self._persist(gone)
        windows = self.maintenance_now()
        changes = Changes()
        for state in taken:
            changes.updated += self._remark(state, windows)
        self._persist(changes)
        return len(taken)

    def _suppressor(self, state: DeviceState, windows: list[MaintenanceWindow]) -> Suppression:
        device = state.device
        parent = self.states.get(device.parent) if device.parent else None
        parent_faults = self.faults.get(device.parent) if device.parent else None
        return suppressor(parent, any(w.matches(device) for w in windows), parent_faults,
                          self.declared.active(device.id, self.clock()))

    def _remark(self, state: DeviceState, windows: list[MaintenanceWindow]) -> list[OpenFault]:
        open_now = self.faults.get(state.device.id)
        return remark(open_now, self._suppressor(state, windows)) if open_now else []

    def open_faults(self) -> list[OpenFault]:
        return [f for by_kind in self.faults.values() for f in by_kind.values()]

    def suppressed_children(self, device_id: str) -> int:
        """How many open faults are suppressed because of this device."""
        return sum(1 for f in self.open_faults() if f.suppressed_by == device_id)

    def _persist(self, changes: Changes) -> None:
        """Take the changes into the monitor's state at once, and hand them to the writer:
        one batch per county, under its lease when there are several instances."""
        if not changes:
            return
        now = self.clock()
        batches: dict[str, Batch] = {}
        for f in changes.opened:
            new = _to_new(f, self.states.get(f.device))
            self._batch(batches, f.county).opened.append((f, new))
        for f in changes.updated:
            self._batch(batches, f.county).updated.append((f, f.suppressed_by, f.detail))
        for f, reason in changes.closed:
            self._batch(batches, f.county).closed.append((f, now, reason))
        for batch in batches.values():
            self.writes.add(batch)
        for fault in changes.opened:
            log.info("fault %s opened on %s", fault.fault, fault.device, extra={
                "device": fault.device, "county": fault.county, "fault": fault.fault,
                "suppressed_by": fault.suppressed_by})
        for fault, reason in changes.closed:
            log.info("fault %s closed on %s (%s)", fault.fault, fault.device, reason,
                     extra={"device": fault.device, "fault": fault.fault, "reason": reason})
        for fault in changes.opened:
            self.faults.setdefault(fault.device, {})[fault.fault] = fault
        for fault, _ in changes.closed:
            by_kind = self.faults.get(fault.device, {})
            by_kind.pop(fault.fault, None)
            if not by_kind:
                self.faults.pop(fault.device, None)

    def _batch(self, batches: dict[str, Batch], county: str) -> Batch:
        batch = batches.get(county)
        if batch is None:
            fence = None if self.ownership is None else self.ownership.guard((county,))
            batch = batches[county] = Batch(county=county, guard=fence)
        return batch

    # -- sweeps ------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """True once every group has completed a sweep."""
        return all(s.runs > 0 for s in self.stats.values())

    def maintenance_now(self) -> list[MaintenanceWindow]:
        windows = self.inventory.maintenance
        if not windows:
            return []
        now = datetime.fromtimestamp(self.clock(), ZoneInfo(self.inventory.timezone))
        return [w for w in windows if w.active_at(now)]

    def declared_now(self) -> set[str]:
        """The devices inside an outage a county declared (停机报备), now."""
        return self.declared.devices_now(self.clock())

    async def run_group(self, key: str) -> None:
        """One sweep of one group: probe, record, evaluate, persist, notify."""
        group = self.groups.get(key)
        if group is None:
            return
        stats = self.stats[key]
        if stats.running:
            stats.overruns += 1
            return
        stats.running = True
        started = time.perf_counter()
        try:
            results, standing_by = await self._sweep(group.devices)
            stats.last_skipped = _skips(results)
            touched = await self._record(results, standing_by)
            await self._refresh_stale_parents(touched)
            await self.declared.refresh()
            await self._evaluate(touched)
            await self.writes.settle(self.write_wait)
        finally:
            stats.running = False
        stats.runs += 1
        if not self.ready_once:
            self.ready_once = self.ready
        stats.last_duration = time.perf_counter() - started
        stats.last_run_at = self.clock()
        if stats.last_skipped:
            log.warning("sweep %s: %d check(s) skipped by the monitor's own limits (%s); "
                        "no fault opened or closed for them", key,
                        sum(stats.last_skipped.values()),
                        ", ".join(f"{r} {n}" for r, n in sorted(stats.last_skipped.items())))
        if stats.last_duration > group.interval:  # the scheduler counts the run it skips
            log.warning("sweep %s took %.1f s, longer than its %g s interval",
                        key, stats.last_duration, group.interval)
        for listener in list(self.listeners):
            outcome = listener(key, touched)
            if inspect.isawaitable(outcome):
                await outcome

    async def _sweep(self, devices: list[Device]) -> tuple[list[DeviceResult], set[str]]:
        """Probe the devices: fully where active (with the samples due), as the shadow
        says where standing by (never a sample: a standby judges nothing).

        Also returns the devices probed as a standby: their results keep the state warm
        and are never judged (``_record``).
        """
        ownership, sampling = self.ownership, self.sampling
        if ownership is None and not sampling:
            return await self.runner.sweep(devices), set()
        now = self.clock()
        probed: list[Device] = []
        originals: dict[str, Device] = {}
        standing_by: set[str] = set()
        for device in devices:
            if ownership is not None and not ownership.active(device.county):
                shadow = ownership.shadowed(device)
                if shadow is not None and device.id in sampling:
                    regular = tuple(c for c in shadow.checks if c.probe not in SAMPLED)
                    shadow = dataclasses.replace(shadow, checks=regular) if regular else None
                if shadow is not None:
                    probed.append(shadow)
                    originals[device.id] = device
                    standing_by.add(device.id)
                continue
            if device.id in sampling:
                state = self.states.get(device.id)
                planned = self.sampler.plan(device, state.results if state else {}, now)
                if planned is None:
                    continue
                if planned is not device:
                    originals[device.id] = device
                    device = planned
            probed.append(device)
        results = await self.runner.sweep(probed)
        for result in results:
            original = originals.get(result.device.id)
            if original is not None:
                result.device = original  # recorded against the device the state knows
        return results, standing_by

    async def _record(self, results: list[DeviceResult],
                      standing_by: Collection[str] = ()) -> list[DeviceState]:
        """Take the sweep's results into the devices' state, in slices (see ``slices``).

        A device probed as a standby whose county was taken over while the sweep ran is
        left out: its cycle (ICMP only, by default) would count as a good cycle of an
        adopted service fault, and the active judges what it probes in full.
        """
        now = self.clock()
        trusted = self.host_clock() if self.sampling and self.host_clock else True
        touched = []
        async for part in in_slices(results):
            states = self.states  # read per slice: a reload may have swapped it meanwhile
            for result in part:
                state = states.get(result.device.id)
                if state is None or state.device is not result.device:
                    continue  # removed or redefined by a reload during the sweep
                if self._skipped(result):
                    continue  # the monitor's own limit: this cycle says nothing of the device
                if result.device.id in standing_by:
                    if self.active(result.device.county):
                        continue  # probed as a standby, taken over since: not to be judged
                    state.record(result.checks, now)
                elif result.device.id in self.sampling:
                    state.record(result.checks, now, trusted)
                    self.sampler.after(result.device, result.checks, now, trusted)
                else:
                    state.record(result.checks, now)
                touched.append(state)
        return touched

    def _skipped(self, result: DeviceResult) -> bool:
        """Count the device's skipped checks; True if any (its cycle is then left out).

        A skipped check (engine saturated, batch overran, local resources short) is no
        evidence about the device, and judging it on its other checks alone could call
        it unreachable: so the whole cycle is left out, nothing opens and nothing closes.
        """
        found = False
        sampled = None
        for name, check in list(result.checks.items()):
            if check.reason is not Reason.OK and check.skipped:
                key = (result.device.kind, check.reason.value)
                self.skipped[key] = self.skipped.get(key, 0) + 1
                if sampled is None:
                    sampled = {c.name for c in sampled_checks(result.device)}
                if name in sampled:
                    del result.checks[name]  # a sample not taken: due again, nothing judged
                else:
                    found = True
        return found

    def store_status(self) -> StoreStatus:
        """The store as the database thread sees it (never waits)."""
        return self.db.status()

    @property
    def unrecorded(self) -> int:
        """Fault changes decided and not yet in the store."""
        return self.writes.pending

    def health_problems(self) -> list[str]:
        """Why the monitor itself is not healthy: the store away, capacity overloads, skipped
        checks."""
        found = list(self.capacity_problems)
        clock = self.host_clock.last if self.host_clock else None
        if clock is not None and not clock.synchronised and self.reads_clocks:
            found.append(f"host clock not synchronised ({clock.source}): device clocks "
                         "(onvif_time) are not judged")
        store = self.db.status()
        if not store.up:
            waiting = self.writes.pending
            found.insert(0, f"store: {store.problem}" + (
                f"; {waiting} fault change(s) wait to be recorded" if waiting else ""))
        for key in sorted(self.stats):
            skipped = self.stats[key].last_skipped
            if skipped:
                reasons = ", ".join(f"{r} {n}" for r, n in sorted(skipped.items()))
                found.append(f"sweep {key}: {sum(skipped.values())} check(s) skipped by the "
                             f"monitor's own limits in its latest run ({reasons})")
        return found

    async def _refresh_stale_parents(self, states: list[DeviceState]) -> None:
        """Probe now the parents not seen since a child's failure began."""
        stale: dict[str, Device] = {}
        for state in states:
            parent_id = state.device.parent
            if parent_id is None or not self.active(state.device.county) or not would_open(
                    state, self.faults.get(state.device.id, {})):
                continue
            parent = self.states.get(parent_id)
            since = min((s.since for s in state.streaks.values() if s.bad), default=0.0)
            if parent is not None and parent.checked_at < since:
                stale[parent_id] = parent.device
        if stale:
            results, _ = await self._sweep(list(stale.values()))
            await self._record(results)

    async def _evaluate(self, states: list[DeviceState]) -> None:
        """Open, close and re-mark faults of the devices just recorded, in slices."""
        now = self.clock()
        windows = self.maintenance_now()
        changes = Changes()
        async for part in in_slices(states):
            current = self.states
            for state in part:
                if not state.streaks:
                    continue  # no condition ever held: nothing to open, close or re-mark
                if self.ownership is not None and not self.ownership.active(state.device.county):
                    continue  # standing by: the county's active judges it
                if current.get(state.device.id) is not state:
                    continue  # removed by a reload between slices: its faults closed
                changes.extend(
                    evaluate(state, self.faults.get(state.device.id, {}),
                             self._suppressor(state, windows), now)
                )
        self._persist(changes)
        if not self.children:
            return
        # the children of the devices just judged fold under (or out from) them at once,
        # not at their own next sweep: a child's fault may have opened before its parent's
        evaluated = {state.device.id for state in states}
        refolded = Changes()
        async for part in in_slices(states):
            for state in part:
                for child_id in self.children.get(state.device.id, ()):
                    child = self.states.get(child_id)
                    if child is not None and child_id not in evaluated:
                        refolded.updated += self._remark(child, windows)
        self._persist(refolded)

    # -- reload ------------------------------------------------------------------------

    def reload(self, inventory: Inventory) -> ReloadReport:
        """Swap in a new inventory: new devices start, removed ones stop and their faults
        close as ``removed``; the others keep their state, history and open faults."""
        old = self.states
        new_states: dict[str, DeviceState] = {}
        added = changed = kept = 0
        for device in inventory.devices:
            state = old.get(device.id)
            if state is None:
                added += 1
                new_states[device.id] = DeviceState(device)
            elif state.device == device:
                kept += 1
                state.device = device  # sweeps carry the new object; _record matches on it
                new_states[device.id] = state
            else:
                changed += 1
                state.redefine(device)
                new_states[device.id] = state
        removed_ids = set(old) - set(new_states)
        closing = Changes()
        for device_id in removed_ids:
            closing.closed += [(f, REMOVED) for f in self.faults.get(device_id, {}).values()]
        self._persist(closing)
        self.inventory = inventory
        self.states = new_states
        self.sampling = _sampling(inventory.devices)
        self.reads_clocks = _reads_clocks(inventory.devices)
        self.sampler.forget(removed_ids)
        self.groups = build_groups(inventory.devices)
        self.children = build_children(inventory.devices)
        self.stats = {key: self.stats.get(key, GroupStats()) for key in self.groups}
        return ReloadReport(added, len(removed_ids), changed, kept)


def _sampling(devices: Iterable[Device]) -> frozenset[str]:
    """The devices with sampled checks (``sampling``)."""
    return frozenset(d.id for d in devices if any(c.probe in SAMPLED for c in d.checks))


def _reads_clocks(devices: Iterable[Device]) -> bool:
    """Whether any device has a clock check (then an unsynchronised host is a problem)."""
    return any(c.probe == CLOCK for d in devices for c in d.checks)


def _skips(results: list[DeviceResult]) -> dict[str, int]:
    """Skipped checks of one sweep, by reason."""
    found: dict[str, int] = {}
    for result in results:
        for check in result.checks.values():
            if check.skipped:
                found[check.reason.value] = found.get(check.reason.value, 0) + 1
    return found


def _to_new(fault: OpenFault, state: DeviceState | None) -> NewEpisode:
    return NewEpisode(
        device=fault.device, county=fault.county, kind=fault.kind, fault=fault.fault,
        first_seen=fault.first_seen, opened_at=fault.opened_at,
        suppressed_by=fault.suppressed_by, detail=fault.detail,
        evidence=evidence(state) if state is not None else {},
    )


def evidence(state: DeviceState) -> dict[str, Any]:
    """What a notice item shows as 监测依据: failed checks, last good time, latest figures."""
    failed = [f"{name}: {r.reason.value}" + (f" ({r.detail})" if r.detail else "")
              for name, r in state.results.items() if not r.success]
    figures = {f"{name}.{key}": value for name, r in state.results.items()
               for key, value in r.measurements.items()}
    found: dict[str, Any] = {"failed_checks": failed, "figures": figures}
    if state.last_up_at is not None:
        found["last_good"] = state.last_up_at
    return found


def _from_episode(ep: Episode) -> OpenFault:
    return OpenFault(
        ep.device, ep.county, ep.kind, ep.fault, ep.first_seen, ep.opened_at,
        ep.suppressed_by, ep.detail, ep.id,
    )
