"""Devices: validation of one device's fields, its checks, and the parent tree.

``DeviceBuilder.add`` takes a device's values as YAML would type them (the CSV
reader converts its cells first) and either appends a ``Device`` or records
problems. Check specs are memoized: devices that share settings share one tuple
of ``CheckSpec`` and one ``Params`` object per distinct probe setting.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from types import ModuleType
from typing import Any

import probes
from netwatch.inventory import units as u
from netwatch.inventory.defaults import Base, CheckItem, Layers, freeze
from netwatch.inventory.model import KINDS, BBox, CheckSpec, County, Device
from netwatch.inventory.reader import Reader, say, suggestion
from netwatch.inventory.settings import LAT, LON, Profile

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}")
BBOX_MARGIN = 0.01  # degrees (about 1 km) of slack around coverage.bbox


def ip_literal(address: str) -> str | None:
    """The canonical text of an IP literal, or None (dotted quads skip ``ipaddress``)."""
    if _IPV4.fullmatch(address):
        return address
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class DeviceBuilder:
    """Collects devices from every source, then checks parents across all of them."""

    def __init__(self, r: Reader, counties: dict[str, County], profiles: dict[str, Profile],
                 layers: Layers, bbox: BBox | None) -> None:
        self.r = r
        self.counties = counties
        self.profiles = profiles
        self.layers = layers
        self.bbox = bbox
        self.devices: list[Device] = []
        self.origin: dict[str, tuple[str, int]] = {}  # every valid id seen -> (file, line)
        self._modules: dict[str, ModuleType | None] = {}
        self._params: dict[tuple[str, Any], Any] = {}
        self._specs: dict[Any, tuple[tuple[CheckSpec, ...], list[int]]] = {}
        self._repeats: dict[int, int] = {}  # index of a check problem -> devices sharing it
        self._check_profiles()

    def _check_profiles(self) -> None:
        """Let the snmp probe judge each profile once, at the profile's own line."""
        module = self._module("snmp", None)
        for name, profile in self.profiles.items():
            if module is None or profile.params is None:
                continue
            try:
                module.parse_params(dict(profile.params))
            except ValueError as exc:
                self.r.add(profile.line, say(f"snmp_profiles.{name}", str(exc)))
                profile.params = None

    def _module(self, probe: str, item: CheckItem | None) -> ModuleType | None:
        if probe not in self._modules:
            try:
                self._modules[probe] = probes.get_probe(probe)
            except ImportError as exc:
                self._modules[probe] = None
                if item is not None:
                    self.r.add(item.line, f'check "{probe}": probe module {probes.PROBES[probe]} '
                                          f"cannot be imported: {exc}", item.file or None)
        return self._modules[probe]

    def add(self, file: str, line: int, did: str | None, kind: Any, county: Any, address: Any,
            name: Any, lat: Any, lon: Any, parent: Any, site: Any, key_area: bool,
            snmp_profile: Any, uplink_if: Any, ports: dict[str, int] | None,
            layer: dict[str, Any] | None) -> None:
        """Validate one device and keep it if it is sound; ``did`` is None for a bad id."""
        r = self.r
        where = f"device {did}:" if did else "device:"
        before = len(r.problems)
        if did is not None:
            first = self.origin.get(did)
            if first is not None:
                r.add(line, say(where, f"duplicate id (first defined at {first[0]}:{first[1]})"),
                      file)
                return
            self.origin[did] = (file, line)
        if kind is None:
            r.add(line, say(where, 'missing key "kind"'), file)
        elif kind not in KINDS:
            r.add(line, say(where, f"unknown kind {u.shown(kind)}{suggestion(kind, KINDS)} "
                                   f"(one of {', '.join(KINDS)})"), file)
        if county is None:
            r.add(line, say(where, 'missing key "county"'), file)
        elif county not in self.counties:
            r.add(line, say(where, f"unknown county {u.shown(county)}"
                                   f"{suggestion(county, self.counties)}"), file)
        canonical = ip_literal(address) if isinstance(address, str) else None
        if address is None:
            r.add(line, say(where, 'missing key "address"'), file)
        elif canonical is None:
            r.add(line, say(where, f"address {u.shown(address)} is not an IP address"), file)
        self._position(file, line, where, lat, lon)
        for key, value in (("name", name), ("site", site)):
            problem = u.control_problem(value) if isinstance(value, str) else None
            if problem is not None:
                r.add(line, say(where, f"{key}: {problem}"), file)
        if snmp_profile is not None and snmp_profile not in self.profiles:
            r.add(line, say(where, f"unknown snmp_profile {u.shown(snmp_profile)}"
                                   f"{suggestion(snmp_profile, self.profiles)}"), file)
        if len(r.problems) != before or did is None:
            return
        base = self.layers.base(county, kind, layer)
        if ports:
            names = {c.name for c in base.checks}
            for check in ports:
                if check not in names:
                    r.add(line, say(where, f'ports: no check named "{check}"'
                                           f"{suggestion(check, names)}"), file)
        checks = self._checks(base, ports, snmp_profile, uplink_if, file, line, did)
        if len(r.problems) != before:
            return
        self.devices.append(Device(
            did, kind, county, canonical, name or did, checks, base.interval, base.timeout,  # type: ignore[arg-type]
            base.thresholds, base.open_after, base.close_after, base.grace, base.rectify_within,
            lat, lon, parent, site or "", key_area, f"{file}:{line}", snmp_profile, uplink_if,
        ))

    def _position(self, file: str, line: int, where: str, lat: Any, lon: Any) -> None:
        if lat is None and lon is None:
            return
        box = self.bbox
        if (type(lat) is float and type(lon) is float and box is not None
                and box.lat_min <= lat <= box.lat_max and box.lon_min <= lon <= box.lon_max):
            return  # the common case, decided without parsers
        if lat is None or lon is None:
            self.r.add(line, say(where, "lat and lon go together: give both or neither"), file)
            return
        for key, value, parse in (("lat", lat, LAT), ("lon", lon, LON)):
            try:
                parse(value)
            except u.BadValue as exc:
                self.r.add(line, say(where, f"{key}: {exc}"), file)
                return
        if box is not None and not (
            box.lat_min - BBOX_MARGIN <= lat <= box.lat_max + BBOX_MARGIN
            and box.lon_min - BBOX_MARGIN <= lon <= box.lon_max + BBOX_MARGIN
        ):
            self.r.add(line, say(where, f"lat {lat}, lon {lon} is outside coverage.bbox"), file)

    def _checks(self, base: Base, ports: dict[str, int] | None, profile: str | None,
                uplink_if: Any, file: str, line: int, did: str) -> tuple[CheckSpec, ...]:
        # base.checks is interned by Layers: its id() names one distinct checks list
        key = (id(base.checks), tuple(sorted(ports.items())) if ports else None, profile,
               uplink_if)
        memo = self._specs.get(key)
        if memo is not None:
            for index in memo[1]:
                self._repeats[index] += 1
            return memo[0]
        specs: list[CheckSpec] = []
        problem_indexes: list[int] = []
        for item in base.checks:
            module = self._module(item.probe, item)
            if module is None:
                continue
            raw = dict(item.raw)
            if item.probe == "snmp":
                fields = self.profiles[profile].params if profile else None
                if fields is None:
                    if profile is None:
                        self.r.add(line, f"device {did}: check {item.name}: needs an snmp_profile",
                                   file)
                        problem_indexes.append(len(self.r.problems) - 1)
                    continue
                raw = {**fields, **raw}
                if uplink_if is not None:
                    raw["uplink_if"] = uplink_if
            pkey = (item.probe, freeze(raw))
            params = self._params.get(pkey)
            if params is None:
                try:
                    params = module.parse_params(raw)
                except ValueError as exc:
                    params = exc
                self._params[pkey] = params
            if isinstance(params, ValueError):
                at_item = item.line and getattr(params, "field", "") != "uplink_if"
                self.r.add(item.line if at_item else line,
                           f"device {did}: check {item.name}: {params}",
                           item.file if at_item else file)
                problem_indexes.append(len(self.r.problems) - 1)
                continue
            port = (ports or {}).get(item.name) or item.port or module.DEFAULT_PORT or 0
            specs.append(CheckSpec(item.name, item.probe, port, params))
        for index in problem_indexes:
            self._repeats[index] = 0
        result = tuple(specs)
        self._specs[key] = (result, problem_indexes)
        return result

    def finish(self) -> tuple[Device, ...]:
        """Check every parent link, note repeated check problems, and return the devices."""
        for index, more in self._repeats.items():
            if more:
                p = self.r.problems[index]
                self.r.problems[index] = replace(p, message=f"{p.message} (and {more} more "
                                                 f"device{'s' if more > 1 else ''})")
        by_id = {d.id: d for d in self.devices}
        # suggest among the parents other devices use (a few switches), not among every id
        parents = {d.parent for d in self.devices if d.parent in self.origin}
        for d in self.devices:
            if d.parent is not None and d.parent not in self.origin:
                file, line = self.origin[d.id]
                self.r.add(line, say(f"device {d.id}:", f'parent "{d.parent}" is not a device'
                                                          f"{suggestion(d.parent, parents)}"), file)
        self._cycles(by_id)
        return tuple(self.devices)

    def _cycles(self, by_id: dict[str, Device]) -> None:
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        for start in by_id:
            path: list[str] = []
            node: str | None = start
            while node is not None and node in by_id and node not in state:
                state[node] = 1
                path.append(node)
                node = by_id[node].parent
            if node is not None and state.get(node) == 1:
                cycle = path[path.index(node):] + [node]
                file, line = self.origin[node]
                self.r.add(line, say(f"device {node}:", "parent cycle " + " → ".join(cycle)), file)
            for seen in path:
                state[seen] = 2
