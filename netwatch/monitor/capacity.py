"""The load an inventory asks for, against what this process is set to deliver.

A scheduled sweep starts its checks evenly over ``spread`` of its interval (leaving
two timeouts of room before the next sweep), so a group of ``n`` checks at interval
``T`` asks for ``n / (spread x T)`` per second while it runs; groups may run at the
same time, so their rates add up. Three resources are compared with their settings
(environment variables, read at start and on every reload):

- ICMP echoes per second: ``NETWATCH_ICMP_RATE`` (default 30,000; the engine's
  sending rate, so an inventory over it would leave echoes unsent);
- service checks (TCP, HTTP, RTSP, SIP) per second: ``NETWATCH_SERVICE_RATE``
  (default 1,000);
- SNMP GETs per second: ``NETWATCH_SNMP_RATE`` (default 1,000);
- video sessions held at once: ``NETWATCH_VIDEO_SESSIONS`` (default 32). A ``video``
  sample holds one of a camera's few RTSP sessions (and one of ours) for its sample
  time and a few round trips: a concurrency, not a rate. Samples are spread over their
  period, so the inventory asks for (cameras × hold ÷ period) sessions on average; the
  runner never queues one past the cap: it is skipped, and due again at the next sweep;
- ``NETWATCH_SWEEP_SPREAD``: the part of each interval over which a sweep starts
  its checks (default 0.5, between 0.05 and 0.9; the rest leaves room for replies).

The defaults are what one core sustains with room to spare (see the README's
benchmarks). An inventory over a setting is still run, but the daemon says so
plainly (log, ``/readyz``, ``netwatch_capacity_load_ratio``) with what to change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from netwatch.inventory import CheckSpec, Device
from netwatch.monitor.sampling import SAMPLED, period
from netwatch.monitor.sampling import VIDEO as VIDEO_PROBE

ICMP = "icmp_echoes"
SERVICE = "service_checks"
SNMP = "snmp_gets"
VIDEO = "video_sessions"
RESOURCES = (ICMP, SERVICE, SNMP, VIDEO)
_ENV = {
    ICMP: "NETWATCH_ICMP_RATE",
    SERVICE: "NETWATCH_SERVICE_RATE",
    SNMP: "NETWATCH_SNMP_RATE",
    VIDEO: "NETWATCH_VIDEO_SESSIONS",
}
SPREAD_ENV = "NETWATCH_SWEEP_SPREAD"
_UNITS = {ICMP: "echoes/s", SERVICE: "checks/s", SNMP: "GETs/s", VIDEO: "sessions"}
SAMPLE_SECONDS = 2.0  # a video sample's default length (the video probe's ``sample``)


class CapacityError(ValueError):
    """A capacity setting is not a usable number; the message names the variable."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """What the process is set to deliver per second, and how sweeps are spread."""

    icmp_rate: float = 30_000.0
    service_rate: float = 1_000.0
    snmp_rate: float = 1_000.0
    spread: float = 0.5
    video_sessions: float = 32.0  # held at once (a concurrency, not a rate)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Capacity:
        """Settings from the environment; a bad value raises ``CapacityError`` naming it."""
        default = cls()
        rates = [
            _number(environ, _ENV[r], getattr(default, f), 1.0, 1e7)
            for r, f in ((ICMP, "icmp_rate"), (SERVICE, "service_rate"), (SNMP, "snmp_rate"))
        ]
        spread = _number(environ, SPREAD_ENV, default.spread, 0.05, 0.9)
        sessions = _number(environ, _ENV[VIDEO], default.video_sessions, 1.0, 1e4)
        return cls(rates[0], rates[1], rates[2], spread, int(sessions))

    def limit(self, resource: str) -> float:
        return {ICMP: self.icmp_rate, SERVICE: self.service_rate, SNMP: self.snmp_rate,
                VIDEO: self.video_sessions}[resource]


def paced_window(interval: float, timeout: float, spread: float) -> float:
    """Seconds over which a sweep starts its checks: ``spread`` of the interval, leaving
    at least two timeouts of room before the next sweep (0: all at once)."""
    return max(0.0, min(spread * interval, interval - 2 * timeout))


def resource_of(probe: str) -> str:
    """The capacity a check of this probe draws on."""
    return ICMP if probe == "icmp" else SNMP if probe == "snmp" else SERVICE


def demand(check: CheckSpec) -> float:
    """What one check draws on its resource: an ICMP check ``count`` echoes, an SNMP
    check one GET (a retry only on loss), any other check one service check."""
    return getattr(check.params, "count", 1) if check.probe == "icmp" else 1


def shortest_window(checks: Iterable[CheckSpec], capacity: Capacity) -> float:
    """The shortest time over which these checks can start within the capacity settings."""
    wanted = dict.fromkeys(RESOURCES, 0.0)
    for check in checks:
        wanted[resource_of(check.probe)] += demand(check)
    return max(wanted[r] / capacity.limit(r) for r in RESOURCES)


def _number(environ: Mapping[str, str], name: str, default: float, low: float,
            high: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise CapacityError(f"{name}={text!r}: expected a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise CapacityError(f"{name}={text!r}: must be between {low:g} and {high:g}")
    return value


@dataclass(frozen=True, slots=True)
class Load:
    """One resource: the rate the inventory asks for while its sweeps run, and the limit."""

    resource: str
    wanted: float  # per second
    limit: float  # per second

    @property
    def ratio(self) -> float:
        return self.wanted / self.limit

    @property
    def over(self) -> bool:
        return self.wanted > self.limit

    def problem(self, spread: float) -> str:
        """The plain statement of an overload, with what to change."""
        unit = _UNITS[self.resource]
        fix = {
            ICMP: "lengthen the interval, lower icmp count (echoes per check), or raise "
                  f"{_ENV[ICMP]}",
            SERVICE: f"lengthen the interval or raise {_ENV[SERVICE]}",
            SNMP: f"lengthen the interval of SNMP devices or raise {_ENV[SNMP]}",
            VIDEO: f"lengthen video_every, shorten the video check's sample, or raise "
                   f"{_ENV[VIDEO]}",
        }[self.resource]
        how = ("held at once, on average" if self.resource == VIDEO else
               f"checks started over {spread:.0%} of each interval")
        return (
            f"{self.resource}: the inventory asks for {self.wanted:,.0f} {unit} "
            f"({how}), over the capacity of "
            f"{self.limit:,.0f} {unit}: {fix} (or raise {SPREAD_ENV})"
        )


def assess(devices: Iterable[Device], capacity: Capacity) -> list[Load]:
    """The load of every resource while the sweeps of these devices run."""
    wanted = dict.fromkeys(RESOURCES, 0.0)
    for device in devices:
        # checks start over the paced window (or, unpaced, at once: averaged over the interval)
        window = paced_window(device.interval, device.timeout, capacity.spread) or device.interval
        if window <= 0:
            continue
        for check in device.checks:
            if check.probe in SAMPLED:  # once per its period, whatever the interval
                every = period(device, check)
                if check.probe == VIDEO_PROBE:
                    hold = getattr(check.params, "sample", SAMPLE_SECONDS) + 3 * device.timeout
                    wanted[VIDEO] += hold / every
                else:
                    wanted[SERVICE] += 1 / every
                continue
            wanted[resource_of(check.probe)] += demand(check) / window
    return [Load(r, wanted[r], capacity.limit(r)) for r in RESOURCES]


def problems(loads: Iterable[Load], capacity: Capacity) -> list[str]:
    """Statements for the resources the inventory overloads (empty when all fit)."""
    return [load.problem(capacity.spread) for load in loads if load.over]
