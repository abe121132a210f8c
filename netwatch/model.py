"""The validated inventory as frozen data: what every other part of netwatch reads.

``netwatch.inventory`` builds these from YAML and CSV; nothing else constructs
them except tests. All durations are seconds, all rates are ratios (0..1),
all speeds bits per second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KINDS: tuple[str, ...] = ("trunking_site", "vc_endpoint", "camera", "switch")
TECHNOLOGIES: tuple[str, ...] = ("pdt", "broadband")


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check of one device: which probe, on which port, with which settings."""

    name: str  # unique within the device; usually the probe name
    probe: str  # key in probes.PROBES
    port: int  # 0 for portless probes (icmp)
    params: Any = field(repr=False)  # the probe module's Params (may hold secrets)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Limits a device's measurements are judged against (DOMAIN.md defaults)."""

    rtt_seconds: float = 0.3
    jitter_seconds: float = 0.03
    loss_ratio: float = 0.01
    uplink_min_bps: float = 1e9


@dataclass(frozen=True, slots=True)
class Device:
    """A monitored device with every default already applied."""

    id: str
    kind: str
    county: str
    address: str
    name: str
    checks: tuple[CheckSpec, ...]
    interval: float
    timeout: float
    thresholds: Thresholds = Thresholds()
    open_after: int = 3
    close_after: int = 2
    grace_seconds: float = 1800.0
    rectify_within_days: int = 1
    lat: float | None = None
    lon: float | None = None
    parent: str | None = None
    site: str = ""
    key_area: bool = False
    source: str = ""  # "FILE:LINE" where the device is defined, for messages

    def check(self, name: str) -> CheckSpec | None:
        return next((c for c in self.checks if c.name == name), None)


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class County:
    id: str
    name: str
    receiving_unit: str
    contacts: tuple[Contact, ...] = ()
    boundary: tuple[tuple[float, float], ...] = ()  # (lon, lat) ring, optional


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    id: str
    name: str
    county: str
    lat: float
    lon: float
    technology: str = "pdt"
    serving_site: str | None = None
    priority: int = 3  # 1 (highest) .. 5
    source: str = ""


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the inventory file says, validated, defaults applied."""

    path: str
    city: str
    timezone: str
    counties: Mapping[str, County]
    devices: tuple[Device, ...]
    points: tuple[CoveragePoint, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)  # notices, coverage, maintenance

    def by_id(self) -> dict[str, Device]:
        return {d.id: d for d in self.devices}
