"""Sampled checks: a camera's video and a device's clock, taken now and then, judged apart.

A scripted runner answers only the checks each device it is handed has (as the real one
does) and remembers them, so the tests see which sweeps carried a sample."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable

from netwatch.inventory import Device
from netwatch.metrics import Exposition
from netwatch.monitor import DeviceResult, Monitor, Ownership
from netwatch.monitor.sampling import HostClock, Sampler, condition, first_due
from netwatch.runtime import ClockStatus
from netwatch.store import StoreThread
from netwatch.vocab import Fault, Measurement
from probes.base import ProbeResult, Reason
from tests.metrics.test_exposition import Clock, device, inventory, ping, samples

MINUTE = 60.0
EVERY = 10 * MINUTE  # the test cameras' video_every (their interval stays 60 s)
RESAMPLE = 3 * MINUTE


def camera(ident: str, county: str = "east", *checks: str) -> Device:
    base = device(ident, "camera", county, *(checks or ("icmp", "rtsp", "video")))
    limits = dataclasses.replace(base.thresholds, video_every_seconds=EVERY,
                                 resample_seconds=RESAMPLE, clock_every_seconds=EVERY)
    return dataclasses.replace(base, thresholds=limits)


def video(packets: int = 120, keyframe: int = 1, advancing: int = 1) -> ProbeResult:
    return ProbeResult.ok(**{Measurement.VIDEO_PACKETS: packets, Measurement.KEYFRAME: keyframe,
                             Measurement.TIMESTAMPS_ADVANCING: advancing,
                             Measurement.VIDEO_BYTES_PER_SECOND: 64_000.0})


def clock(offset: float) -> ProbeResult:
    return ProbeResult.ok(**{Measurement.CLOCK_OFFSET_SECONDS: offset,
                             Measurement.RESPONSE_SECONDS: 0.01})


class Runner:
    def __init__(self) -> None:
        self.answers: dict[str, dict[str, ProbeResult]] = {}
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def healthy(self, *devices: Device) -> None:
        for d in devices:
            self.answers[d.id] = {"icmp": ping(), "rtsp": ProbeResult.ok(status_code=200),
                                  "video": video(), "onvif_time": clock(0.4)}

    async def sweep(self, devices: Iterable[Device]) -> list[DeviceResult]:
        out = []
        for d in devices:
            self.asked.append((d.id, tuple(c.name for c in d.checks)))
            out.append(DeviceResult(d, {c.name: self.answers[d.id][c.name] for c in d.checks}))
        return out

    def samples(self, ident: str, check: str = "video") -> int:
        return sum(1 for d, checks in self.asked if d == ident and check in checks)


def monitor(db: StoreThread, *devices: Device,
            ownership: Ownership | None = None) -> tuple[Monitor, Runner, Clock]:
    runner, clock_ = Runner(), Clock()
    runner.healthy(*devices)
    m = Monitor(inventory(*devices), runner, db, clock=clock_,  # type: ignore[arg-type]
                ownership=ownership)
    return m, runner, clock_


async def minutes(m: Monitor, clock_: Clock, n: int) -> None:
    for _ in range(n):
        clock_.now += MINUTE
        for key in list(m.groups):
            await m.run_group(key)


def test_each_device_has_its_own_place_in_the_period() -> None:
    """Spread over the period, the same place at every start, never in the past."""
    cams = [camera(f"cam-{i}") for i in range(200)]
    video_check = [c for c in cams[0].checks if c.probe == "video"][0]
    now = 1_000_000.0
    places = [(first_due(c, video_check, now) - now) for c in cams]
    assert all(0 <= p < EVERY for p in places)
    assert max(places) - min(places) > 0.8 * EVERY  # spread over the whole period
    assert first_due(cams[7], video_check, now) == first_due(cams[7], video_check, now)
    assert Sampler().plan(cams[0], {}, now) is not cams[0]  # not due at once


async def test_video_is_sampled_once_per_period_and_only_while_rtsp_answers(
        db: StoreThread) -> None:
    cam = camera("cam-1")
    m, runner, clock_ = monitor(db, cam)
    await minutes(m, clock_, 30)
    assert runner.samples("cam-1") in (2, 3)  # every 10 minutes, at its place
    assert len([1 for d, _ in runner.asked if d == "cam-1"]) == 30  # icmp and rtsp each minute
    runner.answers["cam-1"]["rtsp"] = ProbeResult.fail(Reason.REFUSED, "refused")
    before = runner.samples("cam-1")
    await minutes(m, clock_, 30)
    assert runner.samples("cam-1") == before  # its RTSP is down: no session held
    assert Fault.SERVICE_DOWN in m.faults.get("cam-1", {})


async def test_no_video_needs_a_confirming_resample_and_leaves_the_camera_up(
        db: StoreThread) -> None:
    cam = camera("cam-1")
    m, runner, clock_ = monitor(db, cam)
    runner.answers["cam-1"]["video"] = video(packets=0, keyframe=0, advancing=0)
    first = None
    for minute in range(1, 31):
        await minutes(m, clock_, 1)
        if runner.samples("cam-1") == 1 and first is None:
            first = minute
            assert "cam-1" not in m.faults  # one sample is no fault yet
        if runner.samples("cam-1") == 2:
            break
    assert first is not None
    assert minute - first == RESAMPLE / MINUTE  # the resample came 3 minutes later
    fault = m.faults["cam-1"][Fault.NO_VIDEO]
    assert "0 RTP packets" in fault.detail
    state = m.states["cam-1"]
    assert state.up and state.verdict is not None and state.verdict.fault is None
    # the picture comes back: the next sample (a resample, 3 minutes on) closes it
    runner.answers["cam-1"]["video"] = video()
    await minutes(m, clock_, 3)
    assert "cam-1" not in m.faults


async def test_a_skipped_sample_counts_for_nothing_and_keeps_the_cycle(db: StoreThread) -> None:
    cam = camera("cam-1")
    m, runner, clock_ = monitor(db, cam)
    runner.answers["cam-1"]["video"] = ProbeResult.fail(Reason.ENGINE_SATURATED, "busy")
    await minutes(m, clock_, 25)
    taken = runner.samples("cam-1")
    assert taken >= 10  # due again at every sweep once its place came
    state = m.states["cam-1"]
    assert state.cycles == 25 and "video" not in state.samples
    assert m.faults == {} and Fault.NO_VIDEO not in state.streaks


async def test_clock_drift_over_the_usual_hysteresis_and_only_with_a_trusted_clock(
        db: StoreThread) -> None:
    dev = camera("cam-1", "east", "icmp", "onvif_time")
    m, runner, clock_ = monitor(db, dev)
    runner.answers["cam-1"]["onvif_time"] = clock(83.0)
    synchronised = [False]
    m.host_clock = HostClock(lambda: ClockStatus(synchronised[0], 16.0, "adjtimex"))
    await minutes(m, clock_, 40)  # netwatch's own clock not synchronised: nothing judged
    assert runner.samples("cam-1", "onvif_time") >= 3 and m.faults == {}
    assert any("host clock not synchronised" in p for p in m.health_problems())
    synchronised[0] = True
    for _ in range(40):
        await minutes(m, clock_, 1)
        if "cam-1" in m.faults:
            break
    fault = m.faults["cam-1"][Fault.CLOCK_DRIFT]
    assert "+83 s" in fault.detail and "limit 5 s" in fault.detail
    assert m.states["cam-1"].streaks[Fault.CLOCK_DRIFT].bad == dev.open_after
    assert not any("host clock" in p for p in m.health_problems())


async def test_a_standby_never_samples(db: StoreThread) -> None:
    cam_e, cam_w = camera("cam-e", "east"), camera("cam-w", "west")
    m, runner, clock_ = monitor(db, cam_e, cam_w,
                                ownership=Ownership("a", generations={"east": 1}))
    await minutes(m, clock_, 30)
    assert runner.samples("cam-e") >= 2 and runner.samples("cam-w") == 0
    assert {checks for d, checks in runner.asked if d == "cam-w"} == {("icmp",)}


async def test_the_county_rates_count_the_latest_samples(db: StoreThread) -> None:
    """Two cameras sampled, one without video: east shows 1 of 2; the west, stood by for,
    is not exported at all; a county nothing was sampled in yet (south) is NaN, not 100 %."""
    good, bad, other = camera("cam-1"), camera("cam-2"), camera("cam-3", "south")
    west = camera("cam-w", "west")
    m, runner, clock_ = monitor(db, good, bad, other, west,
                                ownership=Ownership("a", generations={"east": 1, "south": 1}))
    runner.answers["cam-2"]["video"] = video(packets=0, keyframe=0, advancing=0)
    runner.answers["cam-3"]["rtsp"] = ProbeResult.fail(Reason.REFUSED, "refused")
    exposition = Exposition(m, process_metrics=False)
    await minutes(m, clock_, 25)
    found = samples(exposition.render())
    assert found[("netwatch_video_sampled", frozenset({("county", "east")}))] == 2
    assert found[("netwatch_video_available_ratio", frozenset({("county", "east")}))] == 0.5
    assert math.isnan(found[("netwatch_video_available_ratio",
                             frozenset({("county", "south")}))])
    assert not [k for k in found if k[0].startswith("netwatch_video") and
                ("county", "west") in k[1]]


def test_a_stream_without_key_frame_facts_is_judged_on_the_rest() -> None:
    """MJPEG has no key frame: its absence is no problem; packets and time still count."""
    cam = camera("cam-1")
    check = [c for c in cam.checks if c.probe == "video"][0]
    mjpeg = ProbeResult.ok(**{Measurement.VIDEO_PACKETS: 80,
                              Measurement.TIMESTAMPS_ADVANCING: 1})
    assert condition(check, mjpeg, cam) is False
    frozen = ProbeResult.ok(**{Measurement.VIDEO_PACKETS: 80,
                               Measurement.TIMESTAMPS_ADVANCING: 0})
    assert condition(check, frozen, cam) is True
    assert condition(check, ProbeResult.fail(Reason.AUTH, "401"), cam) is None
