"""Checks sampled now and then rather than every sweep: a camera's video, a device's clock.

A ``video`` check holds one of a camera's few RTSP sessions for seconds, and an
``onvif_time`` check is one more exchange with a busy device: neither is needed every
cycle. Each runs at most once per its period (``video_every``, ``clock_every``), each
device at its own offset within the period (from its id and the check's name, so the
city's samples spread evenly and keep their place across restarts), and a video
sample only while the camera's RTSP answers (a camera whose RTSP is down has its
outage fault already; a sample would hold a session for nothing). A sample that found
a problem is taken again ``resample`` later: the confirmation a fault needs. A sample
the monitor's own limits kept from running is tried again at the next sweep and
counts for nothing.

What a sample says is judged apart from the sweep's verdict (``condition``): a
camera without video is still up for the online rate; its ``no_video`` fault is its
own, as is ``clock_drift``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import zlib
from collections.abc import Callable, Iterable, Mapping

from netwatch.inventory import CheckSpec, Device
from netwatch.runtime import ClockStatus, clock_status
from netwatch.vocab import Fault, Measurement
from probes.base import ProbeResult, Reason

VIDEO, CLOCK = "video", "onvif_time"  # the probes sampled, not run every sweep
SAMPLED: frozenset[str] = frozenset({VIDEO, CLOCK})
SAMPLED_FAULTS: dict[str, Fault] = {VIDEO: Fault.NO_VIDEO, CLOCK: Fault.CLOCK_DRIFT}
RTSP = "rtsp"  # a video sample waits while the camera's rtsp check fails

log = logging.getLogger(__name__)


def sampled_checks(device: Device) -> tuple[CheckSpec, ...]:
    return tuple(c for c in device.checks if c.probe in SAMPLED)


def period(device: Device, check: CheckSpec) -> float:
    limits = device.thresholds
    return limits.video_every_seconds if check.probe == VIDEO else limits.clock_every_seconds


def condition(check: CheckSpec, result: ProbeResult, device: Device,
              clock_trusted: bool = True) -> bool | None:
    """Whether a sample shows its problem (True), shows none (False), or says nothing
    (None: skipped, a refused credential — the rtsp check reports that —, an answer
    without the figure, or a clock judged while netwatch's own clock is not trusted)."""
    if result.skipped or result.reason is Reason.AUTH:
        return None
    figures = result.measurements
    if check.probe == VIDEO:
        if not result.success:  # the camera answers RTSP (else no sample) but plays nothing
            return True
        # no key frame fact for a codec other than H.264/H.265 (MJPEG): not a problem
        return (figures.get(Measurement.VIDEO_PACKETS, 0) == 0
                or figures.get(Measurement.KEYFRAME, 1) == 0
                or figures.get(Measurement.TIMESTAMPS_ADVANCING, 0) == 0)
    offset = figures.get(Measurement.CLOCK_OFFSET_SECONDS)
    if not result.success or offset is None or not clock_trusted:
        return None
    return abs(offset) > device.thresholds.clock_offset_seconds


class HostClock:
    """Whether netwatch's own clock may judge a device's: while the kernel says it is
    synchronised. Asked once per sweep; a change is logged once, as one warning about the
    host (a host clock step must never read as every camera drifting at once)."""

    def __init__(self, status: Callable[[], ClockStatus] = clock_status) -> None:
        self._status = status
        self.last: ClockStatus | None = None

    def __call__(self) -> bool:
        status = self._status()
        before, self.last = self.last, status
        if before is None or before.synchronised != status.synchronised:
            if status.synchronised:
                log.info("the host's clock is synchronised: device clocks are judged")
            else:
                log.warning("the host's clock is not synchronised (%s): no device's clock "
                            "is judged until it is (set up chrony or systemd-timesyncd)",
                            status.source if status.max_error_seconds is None else
                            f"maximum error {status.max_error_seconds:.1f} s")
        return status.synchronised


class Sampler:
    """When each device's sampled checks are next due (in memory: a restart samples each
    device at its usual place in the period again)."""

    def __init__(self) -> None:
        self._due: dict[tuple[str, str], float] = {}
        # per device definition, its regular checks alone: what most sweeps probe of it, made
        # once rather than at every sweep of a city's cameras
        self._regular: dict[str, tuple[Device, Device | None]] = {}

    def plan(self, device: Device, results: Mapping[str, ProbeResult],
             now: float) -> Device | None:
        """The device as this sweep probes it: its regular checks and the samples due
        (``device`` itself when all are), or None when nothing of it is to be probed
        (only sampled checks, none due). ``results`` are its latest (the rtsp check's)."""
        sampled = sampled_checks(device)
        due = [c for c in sampled if self._is_due(device, c, results, now)]
        if len(due) == len(sampled):
            return device
        if not due:  # the usual sweep: the regular checks only
            cached = self._regular.get(device.id)
            if cached is None or cached[0] is not device:
                cached = self._regular[device.id] = (device, _without(device, ()))
            return cached[1]
        return _without(device, due)

    def _is_due(self, device: Device, check: CheckSpec, results: Mapping[str, ProbeResult],
                now: float) -> bool:
        if check.probe == VIDEO and not _rtsp_answers(device, results):
            return False
        key = (device.id, check.name)
        due = self._due.get(key)
        if due is None:
            due = self._due[key] = first_due(device, check, now)
        return now >= due

    def after(self, device: Device, taken: Mapping[str, ProbeResult], now: float,
              clock_trusted: bool = True) -> None:
        """Schedule the next samples of the checks just taken: a period on, or ``resample``
        on after a problem; a skipped one stays due."""
        for check in sampled_checks(device):
            result = taken.get(check.name)
            if result is None or result.skipped:
                continue
            problem = condition(check, result, device, clock_trusted)
            wait = device.thresholds.resample_seconds if problem else period(device, check)
            self._due[(device.id, check.name)] = now + wait

    def forget(self, devices: Iterable[str]) -> None:
        """Devices gone (a reload): their schedule goes too."""
        gone = set(devices)
        for key in [k for k in self._due if k[0] in gone]:
            del self._due[key]
        for device in gone:
            self._regular.pop(device, None)


def _without(device: Device, due: Iterable[CheckSpec]) -> Device | None:
    """The device with its regular checks and the sampled ones ``due``; None if none."""
    keep = set(due)
    checks = tuple(c for c in device.checks if c.probe not in SAMPLED or c in keep)
    return dataclasses.replace(device, checks=checks) if checks else None


def first_due(device: Device, check: CheckSpec, now: float) -> float:
    """The device's place in the check's period: the next time at that offset."""
    every = period(device, check)
    offset = zlib.crc32(f"{device.id}/{check.name}".encode()) / 2**32 * every
    due = math.floor(now / every) * every + offset
    return due if due >= now else due + every


def _rtsp_answers(device: Device, results: Mapping[str, ProbeResult]) -> bool:
    """The camera's RTSP answered at its latest check (a camera without one: always)."""
    rtsp = [c.name for c in device.checks if c.probe == RTSP]
    return all(n in results and results[n].success for n in rtsp)
