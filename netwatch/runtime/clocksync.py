"""Whether this host's clock is synchronised, as the kernel's NTP state says (adjtimex(2)).

A device's clock drift is measured against netwatch's own clock, so drift is judged
only while that clock is synchronised. The kernel knows: whatever keeps time (chrony,
ntpd, systemd-timesyncd) clears ``STA_UNSYNC`` in the NTP status once it disciplines
the clock, and the kernel sets it again when nobody has for a while (the maximum
error then grows past 16 s). ``adjtimex`` with ``modes = 0`` only reads that state
and needs no privilege; its return value is the clock state, ``TIME_ERROR`` while
unsynchronised. Here in the runtime because every layer may ask (the monitor before
judging drift, the metrics for ``netwatch_clock_synchronised``).

When the call is not possible (not Linux, or a seccomp filter: systemd's
``ProtectClock=yes`` refuses even the read-only call with EPERM, which is why the
shipped unit allows ``adjtimex`` and keeps the clock safe by withholding CAP_SYS_TIME)
the status is unknown, reported as not synchronised with ``source`` saying why.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass

STA_UNSYNC = 0x0040  # <linux/timex.h>: the clock is not synchronised
TIME_ERROR = 5  # adjtimex's return while the clock is not synchronised
MICROSECONDS = 1e-6  # maxerror is in microseconds


class Timex(ctypes.Structure):
    """``struct timex`` of <linux/timex.h> (native longs; ctypes adds the padding)."""

    _fields_ = [
        ("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
        ("constant", ctypes.c_long), ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long), ("time_sec", ctypes.c_long),
        ("time_usec", ctypes.c_long), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int), ("_reserved", ctypes.c_int * 11),
    ]


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """The host clock's state: synchronised or not, its error bound, and how we know."""

    synchronised: bool
    max_error_seconds: float | None  # the kernel's bound on the clock's error; None: unknown
    source: str  # "adjtimex", or "unknown: WHY"


def from_timex(state: int, status: int, maxerror_us: int) -> ClockStatus:
    """The status from adjtimex's return value, ``status`` flags and ``maxerror``."""
    synchronised = state != TIME_ERROR and not status & STA_UNSYNC
    return ClockStatus(synchronised, maxerror_us * MICROSECONDS, "adjtimex")


def clock_status() -> ClockStatus:
    """Read the kernel's NTP state now (a read-only adjtimex, about a microsecond)."""
    if not sys.platform.startswith("linux"):
        return ClockStatus(False, None, f"unknown: no adjtimex on {sys.platform}")
    libc = ctypes.CDLL(None, use_errno=True)
    timex = Timex()  # modes = 0: read only
    state = libc.adjtimex(ctypes.byref(timex))
    if state < 0:
        return ClockStatus(False, None, f"unknown: adjtimex: {os.strerror(ctypes.get_errno())}")
    return from_timex(state, timex.status, timex.maxerror)
