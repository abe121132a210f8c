"""The JSON API: devices, faults and reload, each narrowed to the token's counties.

Any instance answers for every county. For the counties it is active for, answers are
built from the monitor's live state on the event loop (no awaits in between, so that
part is one consistent snapshot); for the others (its standby counties, whose state in
memory is a shadow, and the counties it was not started for) from the store: each
device's latest state as the county's active instance wrote it (``device_status``,
``netwatch.monitor.status``) and the open fault episodes, read on the database thread
first. Such a device says so (``source``: ``store``, ``as_of``: its county's last lease
renewal) and has no measurements. Closed episodes come from the fault log for every
county. Device checks are serialised field by field from results, never from
``CheckSpec.params``, so SNMP communities and keys cannot leak.
Times go out twice: ISO 8601 in the inventory's time zone and Unix seconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from netwatch.inventory import KINDS, Device
from netwatch.monitor import (
    FAULT_KINDS,
    DeviceState,
    DeviceStatus,
    Lease,
    OpenFault,
    declared_id,
    leases,
    read_status,
    status_words,
)
from netwatch.store import Episode, Store, find_episodes, open_episodes
from netwatch.web.auth import ApiError, visible_counties
from netwatch.web.deps import WebDeps

DEVICE_STATES = ("up", "down", "fault", "unknown")
FAULT_STATES = ("open", "closed", "all")
DEVICES_LIMIT = (100, 1000)  # default and maximum page size
FAULTS_LIMIT = (500, 5000)


def one(request: web.Request, name: str, choices: Iterable[str] | None = None) -> str | None:
    """A query parameter given at most once, checked against its choices."""
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise ApiError(400, f"query parameter {name!r} given more than once")
    if not values:
        return None
    value = values[0]
    allowed = tuple(choices) if choices is not None else None
    if allowed is not None and value not in allowed:
        raise ApiError(400, f"query parameter {name!r}: unexpected value",
                       {"got": value[:100], "expected": list(allowed)})
    return value


def integer(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    text = one(request, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ApiError(400, f"query parameter {name!r}: not an integer",
                       {"got": text[:100]}) from None
    if not low <= value <= high:
        raise ApiError(400, f"query parameter {name!r}: out of range",
                       {"got": value, "min": low, "max": high})
    return value


class Clock:
    """Formats Unix times in the inventory's time zone."""

    def __init__(self, zone: str) -> None:
        self.zone: tzinfo = ZoneInfo(zone)

    def stamp(self, out: dict[str, Any], key: str, when: float | None) -> None:
        """Set ``key`` (ISO 8601) and ``key_unix`` (seconds); both null when unknown."""
        out[key] = None if when is None else datetime.fromtimestamp(when, self.zone).isoformat()
        out[f"{key}_unix"] = when


def device_state(state: DeviceState, open_faults: dict[str, OpenFault] | None) -> str:
    """One word per device: never checked, an open fault, down this cycle, or up."""
    if state.verdict is None:
        return "unknown"
    if open_faults:
        return "fault"
    return "up" if state.verdict.up else "down"


@dataclass(slots=True)
class Stored:
    """What the store says of the counties this instance is not active for."""

    episodes: list[Episode] = field(default_factory=list)  # their open fault episodes
    words: dict[str, str] = field(default_factory=dict)  # device → its row's state word
    leases: dict[str, Lease] = field(default_factory=dict)  # county → its lease

    def open_by_device(self) -> dict[str, list[Episode]]:
        found: dict[str, list[Episode]] = {}
        for ep in self.episodes:
            found.setdefault(ep.device, []).append(ep)
        return found


def read_stored(store: Store, counties: Sequence[str], devices: bool) -> Stored:
    """On the database thread: the open episodes of ``counties`` and, for a device list,
    their devices' state words and their leases."""
    if not devices:
        return Stored(open_episodes(store, counties))
    return Stored(open_episodes(store, counties), status_words(store, counties),
                  leases(store, counties))


class Api:
    """Request handlers over the daemon's monitor and reload hook."""

    def __init__(self, deps: WebDeps) -> None:
        self.deps = deps

    def _scope(self, request: web.Request) -> frozenset[str] | None:
        inventory = self.deps.monitor.inventory
        return visible_counties(request, request.query.getall("county", []), inventory.counties)

    def _elsewhere(self, counties: frozenset[str] | None) -> list[str]:
        """The counties in scope this instance is not active for: answered from the store."""
        monitor = self.deps.monitor
        scope = monitor.inventory.counties if counties is None else counties
        return sorted(c for c in scope if not monitor.active(c))

    async def devices(self, request: web.Request) -> web.Response:
        """GET /api/v1/devices: the devices the token may see, filtered and paged."""
        monitor = self.deps.monitor
        counties = self._scope(request)
        kind = one(request, "kind", KINDS)
        wanted = one(request, "state", DEVICE_STATES)
        limit = integer(request, "limit", DEVICES_LIMIT[0], 1, DEVICES_LIMIT[1])
        offset = integer(request, "offset", 0, 0, 10**9)
        elsewhere = self._elsewhere(counties)
        stored = await monitor.db.call(read_stored, elsewhere, True) if elsewhere else Stored()
        clock = Clock(monitor.inventory.timezone)
        episodes = stored.open_by_device()
        children = Counter(f.suppressed_by for f in self._open_here() if f.suppressed_by)
        children.update(ep.suppressed_by for ep in stored.episodes if ep.suppressed_by)
        matched: list[tuple[Device, DeviceState | None, str]] = []  # None: from the store
        for device in monitor.inventory.devices:
            if (counties is not None and device.county not in counties) or (
                    kind is not None and device.kind != kind):
                continue
            state: DeviceState | None = None
            if monitor.active(device.county):
                state = monitor.states.get(device.id)
                if state is None:
                    continue
                word = device_state(state, monitor.faults.get(device.id))
            else:
                word = "fault" if device.id in episodes else stored.words.get(device.id,
                                                                              "unknown")
            if wanted is None or word == wanted:
                matched.append((device, state, word))
        window = matched[offset:offset + limit]
        page = [None if state is None else self._device(
                    state, word, monitor.faults.get(device.id, {}), children[device.id], clock)
                for device, state, word in window]
        missing = [device.id for device, state, _ in window if state is None]
        if missing:  # the page's devices answered from the store, after the snapshot above
            rows = await monitor.db.call(read_status, missing)
            for i, (device, state, word) in enumerate(window):
                if state is None:
                    lease = stored.leases.get(device.county)
                    page[i] = self._stored_device(
                        device, word, rows.get(device.id), episodes.get(device.id, []),
                        children[device.id], lease, clock)
        return web.json_response(
            {"total": len(matched), "offset": offset, "limit": limit, "devices": page})

    def _open_here(self) -> list[OpenFault]:
        """The open faults this instance judges (of the counties it is active for)."""
        monitor = self.deps.monitor
        return [f for f in monitor.open_faults() if monitor.active(f.county)]

    def _device(self, state: DeviceState, word: str, faults: dict[str, OpenFault],
                suppressed_children: int, clock: Clock) -> dict[str, Any]:
        device = state.device
        verdict = state.verdict
        out: dict[str, Any] = describe_device(device)
        out.update(state=word, up=None if verdict is None else verdict.up)
        clock.stamp(out, "checked_at", state.checked_at or None)
        clock.stamp(out, "last_up_at", state.last_up_at)
        out["fault"] = None if verdict is None else verdict.fault
        out["reasons"] = [] if verdict is None else list(verdict.reasons)
        out["findings"] = [] if verdict is None else list(verdict.findings)
        out["open_faults"] = [
            self._open_fault(f, clock) for f in sorted(faults.values(), key=_fault_order)]
        out["suppressed_children"] = suppressed_children
        checks = {}
        for spec in device.checks:
            result = state.results.get(spec.name)
            checks[spec.name] = {
                "probe": spec.probe, "port": spec.port or None,
                "success": None if result is None else result.success,
                "reason": None if result is None else str(result.reason),
                "detail": None if result is None else result.detail,
                "duration_seconds": None if result is None else result.duration_seconds,
                "measurements": {} if result is None else dict(result.measurements),
            }
        out["checks"] = checks
        return out

    def _stored_device(self, device: Device, word: str, row: DeviceStatus | None,
                       episodes: list[Episode], suppressed_children: int, lease: Lease | None,
                       clock: Clock) -> dict[str, Any]:
        """A device of a county another instance watches, as the store has it: the same
        fields (no measurements or durations: those stay with the instance that probed),
        and where and as of when the answer comes from."""
        out: dict[str, Any] = describe_device(device)
        out.update(state=word, up=None if row is None else row.up)
        clock.stamp(out, "checked_at", None if row is None else row.checked_at)
        clock.stamp(out, "last_up_at", None if row is None else row.last_up_at)
        out["fault"] = None if row is None else row.fault
        out["reasons"] = [] if row is None else list(row.reasons)
        out["findings"] = [] if row is None else list(row.findings)
        out["open_faults"] = [self._open_fault(ep, clock)
                              for ep in sorted(episodes, key=_fault_order)]
        out["suppressed_children"] = suppressed_children
        checks: dict[str, dict[str, Any]] = {}
        for spec in device.checks:
            seen = None if row is None else row.checks.get(spec.name)
            checks[spec.name] = {
                "probe": spec.probe, "port": spec.port or None,
                "success": None if seen is None else seen["success"],
                "reason": None if seen is None else seen["reason"],
                "detail": None if seen is None else seen["detail"],
                "duration_seconds": None, "measurements": {},
            }
        out["checks"] = checks
        out["source"] = "store"
        # the county's active instance writes every change within the sweep that saw it:
        # the row holds as of its last renewal (or clean stop) of the county's lease
        as_of = lease.last_watched if lease is not None else (
            None if row is None else row.checked_at)
        clock.stamp(out, "as_of", as_of)
        clock.stamp(out, "state_since", None if row is None else row.changed_at)
        out["written_by"] = None if row is None else row.holder
        return out

    def _open_fault(self, fault: OpenFault | Episode, clock: Clock) -> dict[str, Any]:
        out: dict[str, Any] = {"fault": fault.fault, "suppressed_by": fault.suppressed_by,
                               "declared": declared_id(fault.suppressed_by),
                               "detail": fault.detail}
        clock.stamp(out, "first_seen", fault.first_seen)
        clock.stamp(out, "opened_at", fault.opened_at)
        return out

    async def faults(self, request: web.Request) -> web.Response:
        """GET /api/v1/faults: open faults from the monitor (the counties this instance is
        active for) and the store (the others), closed ones from the fault log."""
        monitor = self.deps.monitor
        counties = self._scope(request)
        kind = one(request, "kind", KINDS)
        fault = one(request, "fault", FAULT_KINDS)
        state = one(request, "state", FAULT_STATES) or "open"
        flag = one(request, "suppressed", ("true", "false"))
        suppressed = None if flag is None else flag == "true"
        limit = integer(request, "limit", FAULTS_LIMIT[0], 1, FAULTS_LIMIT[1])
        closed: list[Episode] = []
        if state in ("closed", "all"):  # read first: the rest is one snapshot of the monitor
            closed = await monitor.db.call(
                find_episodes, counties=None if counties is None else sorted(counties),
                kind=kind, state="closed", limit=limit if fault is None else FAULTS_LIMIT[1])
        stored = Stored()
        elsewhere = self._elsewhere(counties)
        if state in ("open", "all") and elsewhere:
            stored = await monitor.db.call(read_stored, elsewhere, False)
        clock = Clock(monitor.inventory.timezone)
        names = {d.id: d.name for d in monitor.inventory.devices}

        def keep(county: str, kind_: str, fault_: str, suppressed_by: str | None) -> bool:
            return ((counties is None or county in counties)
                    and (kind is None or kind_ == kind)
                    and (fault is None or fault_ == fault)
                    and (suppressed is None or (suppressed_by is not None) == suppressed))

        items: list[dict[str, Any]] = []
        if state in ("open", "all"):
            every: list[OpenFault | Episode] = [*self._open_here(), *stored.episodes]
            open_now = [f for f in every if keep(f.county, f.kind, f.fault, f.suppressed_by)]
            children = Counter(f.suppressed_by for f in every if f.suppressed_by)
            for f in sorted(open_now, key=_fault_order):
                if isinstance(f, Episode):
                    items.append(_episode_answer(f, names, clock, children[f.device]))
                    continue
                item = _episode_item(f.episode_id, f.device, names, f.county, f.kind,
                                     f.fault, f.suppressed_by, f.detail)
                clock.stamp(item, "first_seen", f.first_seen)
                clock.stamp(item, "opened_at", f.opened_at)
                item.update(state="open", closed_at=None, closed_at_unix=None, close_reason=None,
                            suppressed_children=children[f.device])
                items.append(item)
        if state in ("closed", "all") and len(items) < limit:
            for ep in closed[:limit - len(items)] if fault is None else closed:
                if keep(ep.county, ep.kind, ep.fault, ep.suppressed_by):
                    items.append(_episode_answer(ep, names, clock, 0))
        truncated = len(items) > limit
        return web.json_response(
            {"count": min(len(items), limit), "truncated": truncated, "faults": items[:limit]})

    async def reload(self, request: web.Request) -> web.Response:
        """POST /-/reload: re-read the inventory; on problems the old one keeps running."""
        outcome = dict(await self.deps.reload())
        if outcome.get("ok"):
            return web.json_response(outcome)
        raise ApiError(422, "inventory refused; the previous inventory keeps running",
                       {"problems": list(outcome.get("problems", []))})


def describe_device(device: Device) -> dict[str, Any]:
    """The inventory facts of a device an API client may see (never check params)."""
    return {"id": device.id, "name": device.name, "county": device.county, "kind": device.kind,
            "address": device.address, "site": device.site, "lat": device.lat,
            "lon": device.lon, "parent": device.parent, "key_area": device.key_area}


def _episode_item(episode_id: int | None, device: str, names: dict[str, str], county: str,
                  kind: str, fault: str, suppressed_by: str | None,
                  detail: str) -> dict[str, Any]:
    return {"id": episode_id, "device": device, "name": names.get(device), "county": county,
            "kind": kind, "fault": fault, "suppressed": suppressed_by is not None,
            "suppressed_by": suppressed_by, "declared": declared_id(suppressed_by),
            "detail": detail}


def _episode_answer(ep: Episode, names: dict[str, str], clock: Clock,
                    suppressed_children: int) -> dict[str, Any]:
    """A fault as the fault log has it: closed, or open in a county another instance
    watches."""
    item = _episode_item(ep.id, ep.device, names, ep.county, ep.kind, ep.fault,
                         ep.suppressed_by, ep.detail)
    clock.stamp(item, "first_seen", ep.first_seen)
    clock.stamp(item, "opened_at", ep.opened_at)
    item["state"] = "open" if ep.closed_at is None else "closed"
    clock.stamp(item, "closed_at", ep.closed_at)
    item.update(close_reason=ep.close_reason, suppressed_children=suppressed_children)
    return item


def _fault_order(fault: OpenFault | Episode) -> tuple[float, str, str]:
    return (-fault.first_seen, fault.device, fault.fault)
