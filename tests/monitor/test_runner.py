"""The runner turns every probe misbehaviour into a result; one target never stalls a sweep."""

from __future__ import annotations

import asyncio
import sys
import time
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import probes
from netwatch.inventory import CheckSpec, Device
from netwatch.monitor import AllowList
from netwatch.monitor.capacity import Capacity
from netwatch.monitor.runner import DEADLINE_SLACK, Runner
from probes.base import ProbeContext, ProbeResult, Reason, Target


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., str]]:
    """Register throwaway probe modules under unique names for one test."""
    names: list[str] = []

    def add(name: str, probe: Any, *, deadline: float = 0.2, **attrs: Any) -> str:
        module = types.ModuleType(f"tests._probe_{name}")
        module.NAME = name  # type: ignore[attr-defined]
        module.probe = probe  # type: ignore[attr-defined]
        module.deadline = lambda params, timeout: deadline  # type: ignore[attr-defined]
        for key, value in attrs.items():
            setattr(module, key, value)
        sys.modules[module.__name__] = module
        monkeypatch.setitem(probes.PROBES, name, module.__name__)
        names.append(module.__name__)
        return name

    yield add
    for name in names:
        sys.modules.pop(name, None)


def device(i: int, *probe_names: str, address: str = "") -> Device:
    checks = tuple(CheckSpec(p, p, 0, None) for p in probe_names)
    return Device(
        id=f"dev-{i}", kind="camera", county="c1", address=address or f"127.105.0.{i}",
        name=f"device {i}", checks=checks, interval=60.0, timeout=0.1,
    )


async def ok_probe(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
    return ProbeResult.ok(rtt_seconds=0.001)


async def test_exceptions_become_error_results(register: Callable[..., str]) -> None:
    """A probe that raises gives reason error with the exception named; other checks still run."""

    async def boom(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        raise RuntimeError("parser fell over")

    register("boom", boom)
    register("fine", ok_probe)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "boom", "fine")])
    assert rows[0].checks["boom"].reason is Reason.ERROR
    assert "RuntimeError: parser fell over" in rows[0].checks["boom"].detail
    assert rows[0].checks["fine"].success


async def test_hanging_probe_is_cut_at_its_deadline(register: Callable[..., str]) -> None:
    """A probe that never returns is cancelled at deadline + slack and reported as a skip
    (``check_overran``): a silent device makes a probe time out within its own deadline,
    so only this process can hold one past it."""

    async def hang(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    register("hang", hang, deadline=0.1)
    register("fine", ok_probe)
    started = time.monotonic()
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "hang"), device(2, "fine")])
    elapsed = time.monotonic() - started
    assert rows[0].checks["hang"].reason is Reason.CHECK_OVERRAN
    assert rows[0].checks["hang"].skipped
    assert rows[1].checks["fine"].success
    assert elapsed < 0.1 + DEADLINE_SLACK + 1.0


async def test_non_result_return_is_an_error(register: Callable[..., str]) -> None:
    """A probe returning something other than a ProbeResult is reported, not propagated."""

    async def wrong(target: Target, params: Any, ctx: ProbeContext) -> Any:
        return {"success": True}

    register("wrong", wrong)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "wrong")])
    assert rows[0].checks["wrong"].reason is Reason.ERROR
    assert "dict" in rows[0].checks["wrong"].detail


async def test_oserror_maps_to_reason(register: Callable[..., str]) -> None:
    """Socket errors raised by a probe keep their meaning (refused stays refused)."""

    async def refused(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        raise ConnectionRefusedError(111, "Connection refused")

    register("refused", refused)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "refused")])
    assert rows[0].checks["refused"].reason is Reason.REFUSED


async def test_allow_list_denies_without_sending(register: Callable[..., str]) -> None:
    """A target outside NETWATCH_ALLOWED_NETS is never handed to the probe."""
    calls: list[str] = []

    async def record(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        calls.append(target.address)
        return ProbeResult.ok()

    register("record", record)
    allow = AllowList.parse("127.105.0.0/24")
    devices = [device(1, "record"), device(2, "record", address="127.106.0.2"),
               device(3, "record", address="::1")]
    async with ProbeContext() as ctx:
        rows = await Runner(ctx, allow).sweep(devices)
    assert calls == ["127.105.0.1"]
    assert [r.checks["record"].reason for r in rows] == [Reason.OK, Reason.DENIED, Reason.DENIED]
    assert "NETWATCH_ALLOWED_NETS" in rows[1].checks["record"].detail


async def test_concurrency_cap_is_respected(register: Callable[..., str]) -> None:
    """No more checks of one probe run at once than its cap."""
    running = 0
    peak = 0

    async def slow(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        return ProbeResult.ok()

    register("slow", slow, CONCURRENCY=4)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(i, "slow") for i in range(1, 30)])
    assert all(r.checks["slow"].success for r in rows)
    assert peak == 4


async def test_batch_probe_gets_all_targets_at_once(register: Callable[..., str]) -> None:
    """A probe with probe_batch receives every allowed target in one call, results in order."""
    batches: list[list[str]] = []

    async def batch(targets: list[Target], params: Any, ctx: ProbeContext,
                    spread: float = 0.0) -> list[ProbeResult]:
        batches.append([t.address for t in targets])
        return [ProbeResult.ok(rtt_seconds=float(i)) for i, _ in enumerate(targets)]

    register("multi", ok_probe, probe_batch=batch)
    devices = [device(i, "multi") for i in range(1, 6)]
    progressed: list[str] = []
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep(devices, progress=lambda r: progressed.append(r.device.id))
    assert batches == [[d.address for d in devices]]
    assert [r.checks["multi"].measurements["rtt_seconds"] for r in rows] == [0, 1, 2, 3, 4]
    assert sorted(progressed) == sorted(d.id for d in devices)


async def test_failing_batch_marks_each_target(register: Callable[..., str]) -> None:
    """A batch probe that raises yields an error result per target instead of ending the sweep."""

    async def batch(targets: list[Target], params: Any, ctx: ProbeContext,
                    spread: float = 0.0) -> list[ProbeResult]:
        raise ValueError("engine broke")

    register("multi", ok_probe, probe_batch=batch)
    register("fine", ok_probe)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "multi", "fine"), device(2, "multi")])
    assert [r.checks["multi"].reason for r in rows] == [Reason.ERROR, Reason.ERROR]
    assert rows[0].checks["fine"].success


def test_allow_list_parse_errors_name_the_entry() -> None:
    """A malformed NETWATCH_ALLOWED_NETS entry is named in the error."""
    with pytest.raises(ValueError, match="'127.0.0.0/33'"):
        AllowList.parse("127.0.0.0/8, 127.0.0.0/33")
    assert AllowList.from_env({}).allows("127.9.9.9")
    assert not AllowList.from_env({"NETWATCH_ALLOWED_NETS": "127.0.0.0/8"}).allows("::1")


async def test_local_shortages_are_skips(register: Callable[..., str]) -> None:
    """Out of memory, descriptors or buffers in our own process: a skip, not the device's fault."""
    import errno

    async def no_memory(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        raise MemoryError

    async def no_descriptors(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        raise OSError(errno.EMFILE, "Too many open files")

    register("nomem", no_memory)
    register("nofd", no_descriptors)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "nomem", "nofd")])
    checks = rows[0].checks
    assert checks["nomem"].reason == checks["nofd"].reason == Reason.LOCAL_RESOURCES
    assert checks["nomem"].skipped and checks["nofd"].skipped


async def test_an_overrun_batch_is_a_skip(register: Callable[..., str]) -> None:
    """A batch past its own deadline yields ``batch_overran`` skips, not timeouts."""

    async def stuck(targets: list[Target], params: Any, ctx: ProbeContext,
                    spread: float = 0.0) -> list[ProbeResult]:
        await asyncio.Event().wait()
        return []

    register("stuck", ok_probe, probe_batch=stuck,
             batch_deadline=lambda n, params, timeout, spread: 0.0)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx).sweep([device(1, "stuck"), device(2, "stuck")])
    assert [r.checks["stuck"].reason for r in rows] == [Reason.BATCH_OVERRAN] * 2


async def test_a_sweep_on_demand_starts_no_faster_than_the_capacity(
        register: Callable[..., str]) -> None:
    """`netwatch probe` over a city must not start every check at once (a burst the
    process cannot answer in time, whose overruns would say nothing of the devices):
    its checks start over the shortest window the capacity settings allow, the service
    probes sharing one rate and SNMP its own."""
    starts: dict[str, list[float]] = {"tcp": [], "rtsp": [], "snmp": []}

    def recorder(kind: str) -> Any:
        async def probe(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
            starts[kind].append(time.monotonic())
            return ProbeResult.ok()
        return probe

    for kind in starts:
        register(kind, recorder(kind))
    devices = ([device(i, "tcp") for i in range(1, 21)]
               + [device(i, "rtsp") for i in range(21, 41)]
               + [device(i, "snmp") for i in range(41, 51)])
    # 40 service checks at 100/s need 0.4 s; 10 SNMP GETs at 50/s 0.2 s: all over 0.4 s
    capacity = Capacity(service_rate=100.0, snmp_rate=50.0)
    async with ProbeContext() as ctx:
        rows = await Runner(ctx, capacity=capacity).sweep(devices)
    assert all(r.success for row in rows for r in row.checks.values())
    every = sorted(t for kind in ("tcp", "rtsp") for t in starts[kind])
    first = min(every)
    # a loaded machine only makes it later; at once, all would start within milliseconds
    assert max(starts["tcp"]) - first >= 0.36 and max(starts["rtsp"]) - first >= 0.36
    assert max(starts["snmp"]) - min(starts["snmp"]) >= 0.34
    # spread, not clumped: at once, all 40 would start within one 0.1 s; paced at the
    # shared 100/s, 10 do; room is left for a loaded machine (the slide after a hold-up is
    # tested exactly below).
    assert max(sum(1 for t in every if s <= t < s + 0.1) for s in every) <= 20, [
        round(t - first, 3) for t in every]


async def test_a_paced_sweep_held_up_does_not_catch_up_in_a_burst(
        register: Callable[..., str]) -> None:
    """When the loop is held up mid-sweep, the checks overdue are not all started at once
    (a burst at the moment the process is behind): the schedule slides instead."""
    starts: list[float] = []

    async def probe(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        starts.append(time.monotonic())
        if len(starts) == 5:
            time.sleep(0.3)  # noqa: ASYNC251 - blocking on purpose: the loop held up mid-sweep for 0.3 s, 15 checks' worth
        return ProbeResult.ok()

    register("tcp", probe)
    devices = [device(i, "tcp") for i in range(1, 41)]  # 40 checks at 50/s: one per 20 ms
    async with ProbeContext() as ctx:
        rows = await Runner(ctx, capacity=Capacity(service_rate=50.0)).sweep(devices)
    assert all(r.success for row in rows for r in row.checks.values())
    assert len(starts) == 40
    assert starts[-1] - starts[0] >= 0.78 + 0.25  # the schedule slid by about the hold-up
    # at the pace, 0.05 s holds 2-3 starts; a catch-up would start the 15 overdue at once
    assert max(sum(1 for t in starts if s <= t < s + 0.05) for s in starts) <= 5


async def test_a_paced_sweep_spreads_video_samples_within_the_sessions_cap(
        register: Callable[..., str]) -> None:
    """The video samples due in a sweep start evenly over its window, not at the pace
    floor: 20 samples of 0.25 s over a 3 s window hold about 2 sessions at once, while at
    20/s they would hold 5, past a cap of 4, and the extra ones would be skipped."""
    held, most = [0], [0]

    async def sample(target: Target, params: Any, ctx: ProbeContext) -> ProbeResult:
        held[0] += 1
        most[0] = max(most[0], held[0])
        await asyncio.sleep(0.25)
        held[0] -= 1
        return ProbeResult.ok()

    register("video", sample)
    devices = [device(i, "video") for i in range(1, 21)]
    # the runner's window: 5% of the 60 s interval, 3 s; the samples' deadline 0.2 s
    runner = Runner(ProbeContext(), spread=0.05, capacity=Capacity(video_sessions=4))
    async with runner.ctx:
        rows = await runner.sweep(devices)
    outcomes = [r.reason for row in rows for r in row.checks.values()]
    assert outcomes == [Reason.OK] * 20, outcomes
    assert most[0] <= 3
