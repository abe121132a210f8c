"""``netwatch_clock_synchronised``: whether this host's clock may be compared with devices'.

Cameras' clock offsets are measured against this host's clock, so they mean something
only while it is synchronised; the family says so at each scrape (a read-only
adjtimex, ``netwatch.runtime.clock_status``). An unknown state (the call refused, e.g.
by systemd's ``ProtectClock=yes``) is 0, with no error-bound sample.
"""

from __future__ import annotations

from collections.abc import Callable

from netwatch.metrics.text import Family, FamilySpec
from netwatch.runtime import ClockStatus, clock_status

SYNCHRONISED = FamilySpec(
    "netwatch_clock_synchronised", "gauge",
    "1 while this host's clock is synchronised (kernel NTP state), 0 when not or unknown; "
    "device clock offsets are judged only while it is 1.")
MAX_ERROR = FamilySpec(
    "netwatch_clock_max_error_seconds", "gauge",
    "The kernel's bound on this host's clock error (adjtimex maxerror); absent when unknown.")


def clock_families(read: Callable[[], ClockStatus] = clock_status) -> list[Family]:
    """The host clock's families, read now."""
    status = read()
    synchronised, max_error = Family(SYNCHRONISED), Family(MAX_ERROR)
    synchronised.add("", 1 if status.synchronised else 0)
    if status.max_error_seconds is not None:
        max_error.add("", status.max_error_seconds)
    return [synchronised, max_error]
