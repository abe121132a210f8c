"""The words netwatch's packages share: fault kinds, notice problems, roles, figures.

This sits below every package but the runtime: it imports nothing from netwatch (only the
probes' own vocabulary, ``probes.base``, and that on first use), so every package
may import it without weight. Each
vocabulary is a closed ``StrEnum``: a member is equal to, hashes as and formats as
its string value, so the database, JSON, metric labels and templates see exactly
the strings they always did; only ``repr`` differs, and none reaches output.

- ``Fault``: what the monitor opens an episode for (``fault_episodes.fault``);
- ``Problem``: what a notice item is about (``notice_items.problem``): every fault
  kind, a probe's finding, or a coverage blind spot;
- ``BlindCause``: why a blind spot is blind (a notice item's ``evidence.cause``);
- ``Role``: what an API token or session may do (``tokens.role``);
- ``GapReason``: why nothing watched for a while (``monitoring_gaps.reason``);
- ``Warning``: an early warning (预警) the monitor raises from a trend, short of a fault
  (``device_warnings.warning``, the ``warning`` label of ``netwatch_warning``);
- ``Measurement`` and ``Reason`` (from ``probes.base``): the figures a probe reports
  and why a check failed.

The two outage sets answer different questions, so they are named for theirs:
``OFFLINE_FAULTS`` (is the device off the air, for online rates) and
``OUTAGE_PROBLEMS`` (is the item an outage, for its severity).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from probes.base import Measurement, Reason

__all__ = [
    "OFFLINE_FAULTS", "OUTAGE_PROBLEMS", "BlindCause", "Fault", "GapReason", "Measurement",
    "Problem", "Reason", "Role", "Warning",
]
_FROM_PROBES = frozenset({"Measurement", "Reason"})


def __getattr__(name: str) -> object:
    """``Measurement`` and ``Reason`` on first use: the store and the command line import
    this module, and ``probes.base`` would bring asyncio along (PEP 562)."""
    if name in _FROM_PROBES:
        from probes import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Fault(StrEnum):
    """A fault kind the monitor opens, closes and suppresses (in this order on the API)."""

    UNREACHABLE = "unreachable"  # no check answered
    SERVICE_DOWN = "service_down"  # some checks failed, others answered
    UPLINK_DOWN = "uplink_down"  # the SNMP uplink's ifOperStatus is not up
    UPLINK_SLOW = "uplink_slow"  # the SNMP uplink negotiated below the device's floor
    DEGRADED_LINK = "degraded_link"  # an endpoint's RTT, loss or jitter over its limits
    FLAPPING = "flapping"  # too many up/down changes within the flap window
    AUTH_FAILED = "auth_failed"  # the device refused our credentials: alive, misconfigured
    NO_VIDEO = "no_video"  # a camera answers RTSP but its sampled stream carries no picture
    CLOCK_DRIFT = "clock_drift"  # the device's clock (ONVIF) is off by more than its limit


class Problem(StrEnum):
    """What a notice item is about: a fault kind (same value), a finding or a blind spot."""

    UNREACHABLE = Fault.UNREACHABLE.value
    SERVICE_DOWN = Fault.SERVICE_DOWN.value
    UPLINK_DOWN = Fault.UPLINK_DOWN.value
    UPLINK_SLOW = Fault.UPLINK_SLOW.value
    DEGRADED_LINK = Fault.DEGRADED_LINK.value
    FLAPPING = Fault.FLAPPING.value
    AUTH_FAILED = Fault.AUTH_FAILED.value
    NO_VIDEO = Fault.NO_VIDEO.value
    CLOCK_DRIFT = Fault.CLOCK_DRIFT.value
    OPEN_STREAM = "open_stream"  # a camera serves video without credentials (RTSP finding)
    REBOOTED = "rebooted"  # the device's uptime went back to zero
    BLIND_SPOT = "blind_spot"  # a surveyed place or cell without usable radio coverage


class BlindCause(StrEnum):
    """Why a blind spot is blind, gravest first: its serving site is down, or nothing is."""

    SITE_DOWN = "site_down"
    UPLINK_DOWN = "uplink_down"
    UPLINK_SLOW = "uplink_slow"
    COVERAGE_HOLE = "coverage_hole"  # no site fault explains it: a site is needed


class Role(StrEnum):
    """What an API token (or a session made with one) may do."""

    ADMIN = "admin"  # everything, every county
    COUNTY = "county"  # its counties' devices, faults and notices
    TESTER = "tester"  # field survey: its counties' points, its own readings
    METRICS = "metrics"  # Prometheus's scrape of /metrics, nothing else


class GapReason(StrEnum):
    """Why nothing watched (some or all counties' devices) for a while: a monitoring gap."""

    DAEMON_DOWN = "daemon_down"  # from an instance's last word to its own next start
    NO_ACTIVE = "no_active"  # from a county's last holder's last word to another's takeover


class Warning(StrEnum):  # shadows the builtin only where imported by name
    """An early warning (预警): a trend in data already collected, short of any fault."""

    LOSS_RISING = "loss_rising"  # ICMP loss above the device's own baseline
    RTT_RISING = "rtt_rising"  # ICMP round trip above the device's own baseline
    UPLINK_ERRORS_RISING = "uplink_errors_rising"  # the uplink's error counters growing
    REBOOTS = "reboots"  # repeated uptime resets within a day
    FLAPPING_QUIETLY = "flapping_quietly"  # up/down changes short of the flapping fault
    CLOCK_DRIFTING = "clock_drifting"  # the device clock's offset moving steadily


# A device counts as offline while one of these is open: notices' online rates
# (netwatch.notices.summary) and the start of its monitored time (daemon duties).
OFFLINE_FAULTS: frozenset[Fault] = frozenset({Fault.UNREACHABLE, Fault.SERVICE_DOWN})
# An item about one of these is an outage: rated major, or critical for a key device
# or one whose failure took others down (netwatch.notices.candidates).
OUTAGE_PROBLEMS: frozenset[Problem] = frozenset(
    {Problem.UNREACHABLE, Problem.SERVICE_DOWN, Problem.UPLINK_DOWN})
