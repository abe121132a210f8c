"""Per-kind defaults and their layering: built-in (docs/inventory.md) < kind < county < device.

A *layer* is the parsed subset of the settings keys one place gives; ``Layers``
merges them (thresholds field by field, checks as a whole list) and caches the
result per (county, kind) so 100,000 devices share a handful of ``Base`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from netwatch.inventory import units as u
from netwatch.inventory.model import CLOSE_AFTER, KINDS, OPEN_AFTER, Thresholds
from netwatch.inventory.reader import Reader, join, say, suggestion
from netwatch.inventory.yaml_lines import LineList, LineMap

SETTING_KEYS: tuple[str, ...] = (
    "checks", "interval", "timeout", "open_after", "close_after", "grace", "rectify_within",
    "thresholds",
)

# YAML key -> (Thresholds field, parser)
THRESHOLD_KEYS: dict[str, tuple[str, Any]] = {
    "rtt": ("rtt_seconds", u.duration),
    "jitter": ("jitter_seconds", u.duration),
    "loss": ("loss_ratio", u.ratio),
    "uplink_min_speed": ("uplink_min_bps", u.speed),
    "link_window": ("link_window", u.integer(1, 1000)),
    "flap_changes": ("flap_changes", u.integer(1, 1000)),
    "flap_window": ("flap_window", u.integer(1, 1000)),
    "video_every": ("video_every_seconds", u.positive_duration),
    "resample": ("resample_seconds", u.positive_duration),
    "clock_every": ("clock_every_seconds", u.positive_duration),
    "clock_offset": ("clock_offset_seconds", u.duration),
}

# check settings that are secrets: only ${ENV} references, resolved here (rtsp, video,
# onvif_time)
SECRET_SETTINGS = frozenset({"password"})

_COMMON: dict[str, Any] = {
    "timeout": 1.0, "open_after": OPEN_AFTER, "close_after": CLOSE_AFTER, "thresholds": {},
}

# the built-in column of docs/inventory.md's defaults table
BUILTIN: dict[str, dict[str, Any]] = {
    "camera": {"interval": 60.0, "grace": 7200.0, "rectify_within": 3},
    "vc_endpoint": {"interval": 30.0, "grace": 1800.0, "rectify_within": 1},
    "trunking_site": {"interval": 30.0, "grace": 1800.0, "rectify_within": 1},
    "switch": {"interval": 30.0, "grace": 1800.0, "rectify_within": 3},
}
DEFAULT_CHECKS: dict[str, tuple[str, ...]] = {
    "camera": ("icmp", "rtsp"),
    "vc_endpoint": ("icmp", "sip"),
    "trunking_site": ("icmp", "snmp"),
    "switch": ("icmp", "snmp"),
}


@dataclass(frozen=True, slots=True)
class CheckItem:
    """One entry of a ``checks`` list, before a device's ports and profile are applied."""

    name: str
    probe: str
    port: int | None
    key: Any  # ``freeze(raw)``: identical items compare equal wherever they are written
    file: str = field(compare=False)
    line: int = field(compare=False)
    # for parse_params, secrets resolved (``key`` keeps their ${ENV} references)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Base:
    """A device's settings once every layer is applied."""

    checks: tuple[CheckItem, ...]
    interval: float
    timeout: float
    open_after: int
    close_after: int
    grace: float
    rectify_within: int
    thresholds: Thresholds


_BUILTIN_CHECKS = {
    kind: tuple(CheckItem(p, p, None, (), "", 0) for p in probes)
    for kind, probes in DEFAULT_CHECKS.items()
}


def freeze(value: Any) -> Any:
    """A hashable twin of a YAML value, for memo keys."""
    if isinstance(value, dict):
        return tuple(sorted((str(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def read_checks(
    r: Reader, raw: Any, line: int, where: str, probes: dict[str, str]
) -> tuple[CheckItem, ...] | None:
    """A ``checks`` list: names, or mappings ``{probe, name, port, ...probe settings}``."""
    items = r.items(raw, line, where)
    if not isinstance(raw, LineList):
        return None
    result: list[CheckItem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        iw, iline = join(where, f"[{i}]"), items.line_of(i)
        extra: dict[str, Any] = {}
        port = None
        if isinstance(item, LineMap) and item.get("probe") is None:
            r.add(iline, say(iw, 'missing key "probe"'))
            continue
        if isinstance(item, LineMap):
            probe = item.get("probe")
            name = item.get("name", probe)
            port = r.get(item, "port", iw, u.integer(1, 65535), None)
            extra = {k: v for k, v in item.items() if k not in ("probe", "name", "port")}
            secrets = {k: r.get(item, k, iw, u.secret(r.env), None)
                       for k in SECRET_SETTINGS & set(extra) if extra[k] is not None}
            if None in secrets.values():
                continue  # the unresolved secret is the problem already reported
            extra.update(secrets)
        else:
            probe = name = item
        if not isinstance(probe, str) or probe not in probes:
            known = ", ".join(probes)
            r.add(iline, say(iw, f"unknown check {u.shown(probe)}{suggestion(probe, probes)}"
                                 f" (known: {known})"))
            continue
        if not isinstance(name, str) or not name:
            r.add(iline, say(join(iw, "name"), f"expected a check name, got {u.shown(name)}"))
            continue
        if name in seen:
            r.add(iline, say(iw, f'duplicate check name "{name}" (give one a "name")'))
            continue
        seen.add(name)
        references = {k: item[k] if k in SECRET_SETTINGS else v for k, v in extra.items()}
        result.append(CheckItem(name, probe, port, freeze(references), r.file, iline, extra))
    return tuple(result)


def read_layer(r: Reader, m: LineMap, where: str, probes: dict[str, str]) -> dict[str, Any]:
    """The settings keys present in ``m``, parsed (the caller checks for unknown keys)."""
    layer: dict[str, Any] = {}
    if "checks" in m:
        checks = read_checks(r, m["checks"], m.line_of("checks"), join(where, "checks"), probes)
        if checks is not None:
            layer["checks"] = checks
    parsers: dict[str, Any] = {
        "interval": u.positive_duration, "timeout": u.positive_duration,
        "open_after": u.integer(1, 1000), "close_after": u.integer(1, 1000),
        "grace": u.duration, "rectify_within": u.whole_days,
    }
    for key, parse in parsers.items():
        if m.get(key) is not None:
            value = r.get(m, key, where, parse, None)
            if value is not None:
                layer[key] = value
    tm = r.mapping(m.get("thresholds"), m.line_of("thresholds"), join(where, "thresholds"))
    if tm is not None:
        tw = join(where, "thresholds")
        r.keys(tm, tw, THRESHOLD_KEYS)
        layer["thresholds"] = {
            fname: value for key, (fname, parse) in THRESHOLD_KEYS.items()
            if (value := r.get(tm, key, tw, parse, None)) is not None
        }
    return layer


class Layers:
    """Kind and county defaults from the YAML, merged on demand and cached per (county, kind)."""

    def __init__(self, r: Reader, probes: dict[str, str]) -> None:
        self.r = r
        self.probes = probes
        self.kind_layers: dict[str, dict[str, Any]] = {}
        self.county_layers: dict[tuple[str, str], dict[str, Any]] = {}
        self._cache: dict[tuple[str, str], Base] = {}
        # one canonical tuple per distinct checks list, so memo keys can use its id()
        self._interned: dict[tuple[CheckItem, ...], tuple[CheckItem, ...]] = {}

    def read_defaults(self, raw: Any, line: int) -> None:
        m = self.r.mapping(raw, line, "defaults") or LineMap()  # none, or not a mapping: empty
        for kind, value in m.items():
            if kind not in KINDS:
                self.r.add(m.line_of(kind), say("defaults", f'unknown kind "{kind}"'
                                                f"{suggestion(kind, KINDS)}"))
                continue
            self.kind_layers[kind] = self._layer(value, m.line_of(kind), join("defaults", kind))

    def read_county_defaults(self, raw: Any, line: int, counties: Any) -> None:
        m = self.r.mapping(raw, line, "county_defaults") or LineMap()
        for cid, value in m.items():
            cw = join("county_defaults", str(cid))
            if cid not in counties:
                self.r.add(m.line_of(cid), say(cw, f'unknown county "{cid}"'
                                                   f"{suggestion(cid, counties)}"))
                continue
            cm = self.r.mapping(value, m.line_of(cid), cw) or LineMap()
            for kind, kv in cm.items():
                if kind not in KINDS:
                    self.r.add(cm.line_of(kind), say(cw, f'unknown kind "{kind}"'
                                                     f"{suggestion(kind, KINDS)}"))
                    continue
                self.county_layers[(cid, kind)] = self._layer(kv, cm.line_of(kind), join(cw, kind))

    def _layer(self, raw: Any, line: int, where: str) -> dict[str, Any]:
        m = self.r.mapping(raw, line, where)
        if m is None:
            return {}
        self.r.keys(m, where, SETTING_KEYS)
        return read_layer(self.r, m, where, self.probes)

    def base(self, county: str, kind: str, device: dict[str, Any] | None = None) -> Base:
        """The merged settings of a device of ``kind`` in ``county`` (plus its own layer)."""
        if device is None and (county, kind) in self._cache:
            return self._cache[(county, kind)]
        merged: dict[str, Any] = {**_COMMON, **BUILTIN[kind]}
        merged["checks"] = _BUILTIN_CHECKS[kind]
        thresholds = Thresholds()
        layers = [self.kind_layers.get(kind), self.county_layers.get((county, kind)), device]
        for layer in layers:
            if layer:
                thresholds = replace(thresholds, **layer.get("thresholds", {}))
                merged.update(layer)
        checks = self._interned.setdefault(merged["checks"], merged["checks"])
        base = Base(checks, merged["interval"], merged["timeout"], merged["open_after"],
                    merged["close_after"], merged["grace"], merged["rectify_within"], thresholds)
        if device is None:
            self._cache[(county, kind)] = base
        return base
