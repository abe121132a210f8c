"""Which counties this instance writes for, and how it watches those it stands by for.

An instance is active for the counties whose leases it holds (``netwatch.monitor.leases``)
and standby for the other counties it was started for. For those it keeps its state
warm and writes nothing. How much it probes them is ``Shadow``: by default only their
ICMP checks (``ICMP``), so a standby never doubles the RTSP, SIP, SNMP or HTTP
sessions each device sees; ``FULL`` runs every check, as the active does, for a
hand-over that knows each service at once, at twice the load on the devices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from netwatch.inventory import Device
from netwatch.monitor.leases import DUTIES, guard
from netwatch.store import Guard


class Shadow(StrEnum):
    """How a standby probes the devices of the counties it stands by for."""

    ICMP = "icmp"  # ICMP checks only (a device without one is not probed)
    FULL = "full"  # every check, as the active does


@dataclass(slots=True)
class Ownership:
    """The leases this instance holds, as generations, and what it was started for."""

    holder: str  # the instance's name, unique among the instances of one database
    wanted: frozenset[str] | None = None  # ``--counties``; None: every county
    shadow: Shadow = Shadow.ICMP
    generations: dict[str, int] = field(default_factory=dict)  # scope → generation held
    _shadows: dict[str, tuple[Device, Device | None]] = field(default_factory=dict, repr=False)

    def active(self, county: str) -> bool:
        return county in self.generations

    @property
    def leading(self) -> bool:
        """Whether this instance runs the city-wide duties now."""
        return DUTIES in self.generations

    def counties(self) -> frozenset[str]:
        """The counties this instance is active for now."""
        return frozenset(scope for scope in self.generations if scope != DUTIES)

    def guard(self, scopes: Iterable[str]) -> Guard:
        """The fence of a write for ``scopes``, at the generations held now (a scope not
        held fences with generation 0, which no lease has: the write is refused)."""
        return guard(self.holder, {scope: self.generations.get(scope, 0) for scope in scopes})

    def shadowed(self, device: Device) -> Device | None:
        """What a standby probes of ``device``: itself (``FULL``), its ICMP checks only, or
        nothing when it has none (made once per device definition)."""
        if self.shadow is Shadow.FULL:
            return device
        cached = self._shadows.get(device.id)
        if cached is not None and cached[0] is device:
            return cached[1]
        icmp = tuple(check for check in device.checks if check.probe == "icmp")
        shadow = dataclasses.replace(device, checks=icmp) if icmp else None
        self._shadows[device.id] = (device, shadow)
        return shadow
