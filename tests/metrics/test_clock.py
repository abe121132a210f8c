"""The host clock's status (kernel adjtimex) and ``netwatch_clock_synchronised``."""

from __future__ import annotations

import ctypes
import platform
import struct

import pytest
from prometheus_client.parser import text_string_to_metric_families

from netwatch.metrics import clock_families
from netwatch.runtime import ClockStatus, clock_status
from netwatch.runtime.clocksync import STA_UNSYNC, TIME_ERROR, Timex, from_timex

SYS_ADJTIMEX_X86_64 = 159
TIME_OK = 0
STA_PLL = 0x0001


@pytest.mark.parametrize(("state", "status", "maxerror", "synchronised"), [
    (TIME_OK, STA_PLL, 250_000, True),  # chrony/ntpd disciplining: synchronised, ±0.25 s
    (TIME_OK, STA_PLL | STA_UNSYNC, 250_000, False),  # the flag alone says unsynchronised
    (TIME_ERROR, STA_PLL, 250_000, False),  # so does the clock state alone
    (TIME_ERROR, STA_UNSYNC, 16_000_000, False),  # nobody disciplines it: the kernel's 16 s
    (1, 0, 10_000, True),  # TIME_INS: a leap second pending, still synchronised
])
def test_status_flags(state: int, status: int, maxerror: int, synchronised: bool) -> None:
    got = from_timex(state, status, maxerror)
    assert got == ClockStatus(synchronised, maxerror / 1e6, "adjtimex")


@pytest.mark.skipif(platform.system() != "Linux" or platform.machine() != "x86_64",
                    reason="the raw struct layout below is x86_64 Linux's")
def test_real_call_matches_the_raw_syscall() -> None:
    """On this machine: ``clock_status`` agrees with adjtimex read through the raw syscall and
    <linux/timex.h>'s x86_64 offsets (maxerror at byte 24, status at 40), so the ctypes
    structure's layout is right."""
    assert ctypes.sizeof(Timex) == 208
    libc = ctypes.CDLL(None, use_errno=True)
    raw = ctypes.create_string_buffer(208)
    state = libc.syscall(SYS_ADJTIMEX_X86_64, raw)
    assert state >= 0, ctypes.get_errno()
    maxerror = struct.unpack_from("<q", raw.raw, 24)[0]
    status = struct.unpack_from("<i", raw.raw, 40)[0]
    got = clock_status()
    assert got.source == "adjtimex"
    assert got.synchronised == (state != TIME_ERROR and not status & STA_UNSYNC)
    assert got.max_error_seconds is not None
    # maxerror grows by 500 µs each second between the two reads: allow a little
    assert abs(got.max_error_seconds - maxerror / 1e6) < 0.01
    if got.synchronised:
        assert got.max_error_seconds < 16  # past 16 s the kernel itself marks it unsynchronised


def _samples(status: ClockStatus) -> dict[str, float]:
    text = "".join(f.text() for f in clock_families(lambda: status))
    return {s.name: s.value for fam in text_string_to_metric_families(text) for s in fam.samples}


def test_families() -> None:
    """1/0 with the error bound; unknown is 0 without a bound."""
    assert _samples(ClockStatus(True, 0.05, "adjtimex")) == {
        "netwatch_clock_synchronised": 1, "netwatch_clock_max_error_seconds": 0.05}
    assert _samples(ClockStatus(False, None, "unknown: adjtimex: Operation not permitted")) == {
        "netwatch_clock_synchronised": 0}
    real = "".join(f.text() for f in clock_families())
    assert "netwatch_clock_synchronised " in real
