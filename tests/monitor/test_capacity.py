"""The configured load against the capacity settings: the arithmetic and the plain words."""

from __future__ import annotations

import pytest

from netwatch.inventory import CheckSpec, Device
from netwatch.monitor.capacity import (
    ICMP,
    SERVICE,
    SNMP,
    VIDEO,
    Capacity,
    CapacityError,
    assess,
    problems,
)
from probes import icmp


def fleet(n: int, *probes: str, interval: float = 60.0, count: int = 5) -> list[Device]:
    checks = tuple(
        CheckSpec(p, p, 0, icmp.Params(count=count) if p == "icmp" else None) for p in probes
    )
    return [Device(id=f"d{i}", kind="camera", county="c", address="127.62.1.1", name="d",
                   checks=checks, interval=interval, timeout=1.0) for i in range(n)]


def test_city_scale_fits_the_defaults() -> None:
    """100k x 5 echoes at 60 s over half the interval: 16,667 echoes/s of 30,000."""
    devices = fleet(100_000, "icmp") + fleet(7_000, "rtsp") + fleet(2_000, "snmp")
    loads = {load.resource: load for load in assess(devices, Capacity())}
    assert loads[ICMP].wanted == pytest.approx(100_000 * 5 / 30)
    assert loads[SERVICE].wanted == pytest.approx(7_000 / 30)
    assert loads[SNMP].wanted == pytest.approx(2_000 / 30)
    assert problems(loads.values(), Capacity()) == []


def test_over_capacity_says_what_to_change() -> None:
    devices = fleet(100_000, "icmp", interval=10.0)
    found = problems(assess(devices, Capacity()), Capacity())
    assert len(found) == 1
    assert "100,000 echoes/s" in found[0] and "30,000 echoes/s" in found[0]
    assert "lengthen the interval" in found[0] and "NETWATCH_ICMP_RATE" in found[0]


def test_settings_from_the_environment() -> None:
    cap = Capacity.from_env({"NETWATCH_ICMP_RATE": "50000", "NETWATCH_SWEEP_SPREAD": "0.25"})
    assert (cap.icmp_rate, cap.spread, cap.snmp_rate) == (50_000.0, 0.25, 1_000.0)
    with pytest.raises(CapacityError, match="NETWATCH_SNMP_RATE='fast'"):
        Capacity.from_env({"NETWATCH_SNMP_RATE": "fast"})
    with pytest.raises(CapacityError, match="NETWATCH_SWEEP_SPREAD='2'.*between"):
        Capacity.from_env({"NETWATCH_SWEEP_SPREAD": "2"})


def test_video_samples_are_sessions_held_and_clock_reads_a_rate() -> None:
    """A video sample holds a session for its 2 s and three round trips, once an hour per
    camera: 10,000 cameras hold 13.9 sessions on average, 30,000 more than the 32 set; a
    clock read every 10 minutes adds 1/600 checks a second per device, not one per sweep."""
    cams = fleet(10_000, "icmp", "rtsp", "video")
    loads = {load.resource: load for load in assess(cams, Capacity())}
    assert loads[VIDEO].wanted == pytest.approx(10_000 * 5 / 3600)
    assert loads[SERVICE].wanted == pytest.approx(10_000 / 30)  # rtsp only, every sweep
    assert problems(loads.values(), Capacity()) == []
    [found] = problems(assess(fleet(30_000, "icmp", "video"), Capacity()), Capacity())
    assert "42 sessions (held at once, on average)" in found
    assert "NETWATCH_VIDEO_SESSIONS" in found and "video_every" in found
    clocks = {load.resource: load for load in assess(fleet(6_000, "onvif_time"), Capacity())}
    assert clocks[SERVICE].wanted == pytest.approx(6_000 / 600)
    assert Capacity.from_env({"NETWATCH_VIDEO_SESSIONS": "8"}).video_sessions == 8
