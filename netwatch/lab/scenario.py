"""Scenario files: which devices the lab breaks and how, validated against the inventory.

A scenario is YAML with one list, ``faults``; each item selects devices (``device``,
``devices``, or ``county``/``kind`` with an optional ``pick``) and names a fault with
its settings (``netwatch.lab.faults``). ``load_scenario`` reports every problem as
``FILE:LINE: message``; ``expected_faults`` (re-exported here) says what one sweep
should then report per device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from netwatch.inventory import (
    KINDS,
    Device,
    Inventory,
    LineList,
    LineMap,
    YamlSyntaxError,
    load_yaml,
)
from netwatch.inventory import units as units
from netwatch.lab.faults import (
    FAULTS,
    FLAPPING,
    MAYBE_DEGRADED,
    OUTCOMES,
    SERVICE_PROBES,
    Fault,
    FaultKind,
    Injected,
    Scenario,
    accepts,
    effective_faults,
    expected_faults,
)

__all__ = [
    "FAULTS", "FLAPPING", "MAYBE_DEGRADED", "OUTCOMES", "Fault", "Scenario", "ScenarioError",
    "accepts", "effective_faults", "expected_faults", "load_scenario", "parse_scenario",
]

SELECTORS = frozenset({"device", "devices", "county", "kind", "pick"})
DEFAULT_PERIOD = 10.0  # seconds, flapping, rebooted and snmp_errors
DEFAULT_ERRORS = 10  # errors a period, snmp_errors
DEFAULT_EVERY = 30.0  # seconds between loss steps, degraded
DEFAULT_SLOW_BPS = 100e6


class ScenarioError(Exception):
    """The scenario is invalid; ``problems`` holds one ``FILE:LINE: message`` each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_scenario(path: str | Path, inventory: Inventory) -> Scenario:
    """Read and validate a scenario file against the inventory; all problems at once."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError([f"{name}:1: cannot read scenario: {exc.strerror or exc}"]) from None
    return parse_scenario(text, name, inventory)


def parse_scenario(text: str, name: str, inventory: Inventory) -> Scenario:
    """Validate scenario text; ``name`` is the file name used in messages."""
    try:
        doc, duplicates = load_yaml(text)
    except YamlSyntaxError as exc:
        raise ScenarioError([f"{name}:{exc.line}: {exc.message}"]) from None
    problems = [f"{name}:{line}: duplicate key {key!r} (first on line {first})"
                for line, key, first in duplicates]
    builder = _Builder(name, inventory, problems)
    if doc is None:
        doc = LineMap(1)
    if not isinstance(doc, LineMap):
        problems.append(f"{name}:1: a scenario is a mapping with a 'faults' list")
    else:
        for key in doc:
            if key != "faults":
                builder.problem(doc.line_of(key), f"unknown key {key!r} (expected 'faults')")
        items = doc.get("faults") or LineList()
        if not isinstance(items, LineList):
            builder.problem(doc.line_of("faults"), "'faults' must be a list")
        else:
            for i, item in enumerate(items):
                builder.rule(item, items.line_of(i))
    if problems:
        raise ScenarioError(problems)
    order = {d.id: i for i, d in enumerate(inventory.devices)}
    faults = dict(sorted(builder.faults.items(), key=lambda kv: order[kv[0]]))
    return Scenario(name, faults)


class _Builder:
    """Turns rules into per-device faults, collecting problems as it goes."""

    def __init__(self, name: str, inventory: Inventory, problems: list[str]) -> None:
        self.name = name
        self.inventory = inventory
        self.devices = inventory.by_id()
        self.problems = problems
        self.faults: dict[str, Fault] = {}

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"{self.name}:{line}: {message}")

    def rule(self, item: Any, line: int) -> None:
        if not isinstance(item, LineMap):
            self.problem(line, "a fault is a mapping like {device: ID, fault: unreachable}")
            return
        kind_name = item.get("fault")
        if kind_name is None:
            self.problem(line, "missing 'fault' (one of " + ", ".join(FAULTS) + ")")
            return
        kind = FAULTS.get(str(kind_name))
        if kind is None:
            self.problem(item.line_of("fault"),
                         f"unknown fault {kind_name!r} (known: {', '.join(FAULTS)})")
            return
        bad_keys = set(item) - SELECTORS - kind.settings - {"fault"}
        for key in sorted(bad_keys, key=str):
            allowed = ", ".join(sorted(kind.settings)) or "none"
            self.problem(item.line_of(key), f"unknown key {key!r} (a fault takes device, devices, "
                                            f"county, kind, pick; {kind_name} settings: {allowed})")
        settings = self._settings(item, str(kind_name))
        selected = self._select(item)
        if settings is None or selected is None or bad_keys:
            return
        source = f"{self.name}:{line}"
        for device in selected:
            self._assign(device, str(kind_name), kind, settings, source, line)

    def _settings(self, item: LineMap, kind: str) -> dict[str, Any] | None:
        parsers: dict[str, Callable[[Any], Any]] = {
            "latency": units.duration, "period": units.positive_duration,
            "loss": units.ratio, "speed": units.speed, "check": _names, "offset": _signed,
            "errors": units.integer(1), "steps": _ratios, "every": units.positive_duration,
        }
        out: dict[str, Any] = {}
        ok = True
        for key, parse in parsers.items():
            if key in item:
                try:
                    out[key] = parse(item[key])
                except units.BadValue as exc:
                    self.problem(item.line_of(key), f"{key}: {exc}")
                    ok = False
        if kind == Injected.CLOCK_OFFSET and ok and not out.get("offset"):
            self.problem(item.line, "fault clock_offset needs a non-zero 'offset' "
                                    "(e.g. 120s, or -2m for a clock behind)")
            ok = False
        if kind == Injected.DEGRADED and ok and not (
                out.get("latency") or out.get("loss") or out.get("steps")):
            self.problem(item.line, "fault degraded needs a 'latency', a 'loss' and/or 'steps'")
            ok = False
        if out.get("loss", 0.0) >= 1.0:
            self.problem(item.line_of("loss"), "loss: must be below 100% (that is unreachable)")
            ok = False
        if "steps" in out and "loss" in out:
            self.problem(item.line_of("steps"), "steps: give the loss as 'loss' or as 'steps', "
                                                "not both (the first step is the loss at start)")
            ok = False
        if "every" in out and "steps" not in out:
            self.problem(item.line_of("every"), "every: only with 'steps'")
            ok = False
        if max(out.get("steps", ()), default=0.0) >= 1.0:
            self.problem(item.line_of("steps"), "steps: each must be below 100% (that is "
                                                "unreachable)")
            ok = False
        return out if ok else None

    def _select(self, item: LineMap) -> list[Device] | None:
        named = [k for k in ("device", "devices") if k in item]
        grouped = [k for k in ("county", "kind", "pick") if k in item]
        if len(named) > 1 or (named and grouped):
            keys = ", ".join(named + grouped)
            self.problem(item.line, f"choose devices one way: 'device', 'devices' or "
                                    f"'county'/'kind'/'pick', not {keys}")
            return None
        if named:
            ids = item[named[0]]
            ids = ids if isinstance(ids, list) else [ids]
            if not ids:
                self.problem(item.line_of(named[0]), f"'{named[0]}' names no device")
                return None
            unknown = [str(i) for i in ids if str(i) not in self.devices]
            for i in unknown:
                self.problem(item.line_of(named[0]), f"unknown device {i!r}")
            return None if unknown else [self.devices[str(i)] for i in ids]
        if "county" not in item and "kind" not in item:
            self.problem(item.line, "no devices chosen: give 'device', 'devices' or "
                                    "'county' and/or 'kind'")
            return None
        return self._group(item)

    def _group(self, item: LineMap) -> list[Device] | None:
        county, kind, pick = item.get("county"), item.get("kind"), item.get("pick")
        ok = True
        if county is not None and (not isinstance(county, str)
                                   or county not in self.inventory.counties):
            known = ", ".join(self.inventory.counties)
            self.problem(item.line_of("county"), f"unknown county {county!r} (known: {known})")
            ok = False
        if kind is not None and (not isinstance(kind, str) or kind not in KINDS):
            self.problem(item.line_of("kind"), f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
            ok = False
        if pick is not None and (isinstance(pick, bool) or not isinstance(pick, int) or pick < 1):
            self.problem(item.line_of("pick"), f"pick: expected a whole number ≥ 1, got {pick!r}")
            ok = False
        if not ok:
            return None
        matching = [d for d in self.inventory.devices
                    if county in (None, d.county) and kind in (None, d.kind)]
        what = ", ".join(f"{k} {item[k]}" for k in ("county", "kind") if k in item)
        if not matching or (pick is not None and pick > len(matching)):
            self.problem(item.line, f"pick {pick} but only {len(matching)} devices match {what}"
                         if matching else f"no device matches {what}")
            return None
        return matching[:pick] if pick is not None else matching

    def _assign(self, device: Device, kind_name: str, kind: FaultKind,
                settings: Mapping[str, Any], source: str, line: int) -> None:
        probes = {c.probe for c in device.checks}
        if kind.needs and not kind.needs & probes:
            need = " or ".join(sorted(kind.needs))
            self.problem(line, f"device {device.id} has no {need} check: "
                               f"fault {kind_name} does not apply to it")
            return
        checks: tuple[str, ...] = ()
        if kind_name == Injected.SERVICE_DOWN:
            checks = self._service_checks(device, settings.get("check"), line)
            if not checks:
                return
        if (kind_name.startswith("uplink_") or kind_name == Injected.SNMP_ERRORS) and not (
                _uplink_checks(device)):
            self.problem(line, f"device {device.id} has no uplink_if: fault {kind_name} "
                               "needs an uplink to report on")
            return
        earlier = self.faults.get(device.id)
        if earlier is not None:
            self.problem(line, f"device {device.id} already has fault {earlier.kind} "
                               f"(from line {earlier.source.rsplit(':', 1)[1]})")
            return
        period = settings.get("period", DEFAULT_PERIOD) if "period" in kind.settings else 0.0
        speed = (settings.get("speed", DEFAULT_SLOW_BPS) if kind_name == Injected.UPLINK_SLOW
                 else 0.0)
        errors = (settings.get("errors", DEFAULT_ERRORS) if kind_name == Injected.SNMP_ERRORS
                  else 0)
        steps: tuple[float, ...] = settings.get("steps", ())
        self.faults[device.id] = Fault(
            kind_name, source, latency=settings.get("latency", 0.0),
            loss=steps[0] if steps else settings.get("loss", 0.0), period=period,
            speed_bps=speed, checks=checks, errors=errors, steps=steps,
            every=settings.get("every", DEFAULT_EVERY) if steps else 0.0,
            offset=settings.get("offset", 0.0),
        )

    def _service_checks(self, device: Device, wanted: tuple[str, ...] | None,
                        line: int) -> tuple[str, ...]:
        services = tuple(c.name for c in device.checks if c.probe in SERVICE_PROBES)
        if wanted is None:
            return services
        missing = [n for n in wanted if n not in services]
        for n in missing:
            self.problem(line, f"device {device.id} has no service check {n!r} "
                               f"(its service checks: {', '.join(services)})")
        return () if missing else wanted


def _names(value: Any) -> tuple[str, ...]:
    """Check names from one name or a list of names."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise units.BadValue(f"expected a check name or a list of them, got {units.shown(value)}")
    return tuple(items)


def _signed(value: Any) -> float:
    """A signed duration: ``120s`` ahead, ``-2m`` behind."""
    if isinstance(value, str) and value.strip().startswith("-"):
        return -units.duration(value.strip()[1:])
    if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
        return -units.duration(-value)
    return units.duration(value)


def _ratios(value: Any) -> tuple[float, ...]:
    """Loss steps: a list of at least two ratios."""
    if not isinstance(value, list) or len(value) < 2:
        raise units.BadValue(f"expected a list of two or more ratios like [0%, 2%, 5%], got "
                             f"{units.shown(value)}")
    return tuple(units.ratio(v) for v in value)


def _uplink_checks(device: Device) -> list[str]:
    return [c.name for c in device.checks
            if c.probe == "snmp" and getattr(c.params, "uplink_if", None) is not None]
