"""The only caller of probes: deadlines, timing, concurrency caps, the allow-list.

A sweep runs every check of every given device once. Checks of one probe run
under that probe's concurrency cap (a video sample, which holds a camera's session,
is never queued behind it: past ``NETWATCH_VIDEO_SESSIONS`` it is skipped); probes
that define ``probe_batch`` (ICMP) get all their targets at once so one engine can
pace them. Whatever a probe
does (raise, hang, return garbage) becomes a ``ProbeResult`` here, so one bad
target never stalls or breaks the rest of a sweep.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from netwatch.inventory import CheckSpec, Device
from netwatch.monitor.allowlist import AllowList
from netwatch.monitor.capacity import Capacity, paced_window, shortest_window
from netwatch.monitor.sampling import VIDEO
from netwatch.monitor.slices import SLICE
from probes import get_probe
from probes.base import (
    DeadlinePassed,
    ProbeContext,
    ProbeResult,
    Reason,
    Target,
    reason_for_oserror,
    within,
)

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 500
DEADLINE_SLACK = 0.5  # seconds the runner waits beyond a probe's own deadline
PACE_STEP = 0.01  # seconds: paced checks start in steps no finer than this
MIN_PACE = 20.0  # checks per second: the slowest a paced sweep starts its checks


@dataclass(slots=True)
class DeviceResult:
    """One device's results from one sweep, by check name."""

    device: Device
    checks: dict[str, ProbeResult] = field(default_factory=dict)
    finished_at: float = 0.0  # wall-clock time the last check ended


Job = tuple[Device, CheckSpec]


class Runner:
    """Runs checks against devices; holds the probe context and the allow-list."""

    def __init__(
        self,
        ctx: ProbeContext,
        allow: AllowList | None = None,
        concurrency: dict[str, int] | None = None,
        spread: float = 0.0,
        capacity: Capacity | None = None,
    ) -> None:
        self.ctx = ctx
        self.allow = allow or AllowList(None)
        self.spread = spread  # the part of its interval over which a paced sweep starts checks
        self.capacity = capacity or Capacity()  # on demand: the most checks started per second
        self._concurrency = {VIDEO: int(self.capacity.video_sessions), **(concurrency or {})}
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def _semaphore(self, probe: str, module: ModuleType) -> asyncio.Semaphore:
        sem = self._semaphores.get(probe)
        if sem is None:
            default: int = getattr(module, "CONCURRENCY", DEFAULT_CONCURRENCY)
            limit = self._concurrency.get(probe) or default
            sem = self._semaphores[probe] = asyncio.Semaphore(limit)
        return sem

    async def run_check(self, device: Device, check: CheckSpec) -> ProbeResult:
        """Run one check, never raising: errors and overruns become reasons."""
        target = Target(device.id, device.address, check.port, device.timeout)
        if not self.allow.allows(device.address):
            return ProbeResult.fail(
                Reason.DENIED, f"{device.address} is outside NETWATCH_ALLOWED_NETS ({self.allow})"
            )
        module = get_probe(check.probe)
        sessions = self._semaphore(check.probe, module)
        if check.probe == VIDEO and sessions.locked():  # never queued: a session held waits
            return ProbeResult.fail(Reason.ENGINE_SATURATED, f"{self.capacity.video_sessions:g} "
                                    "video sessions already held (NETWATCH_VIDEO_SESSIONS)")
        async with sessions:
            limit = module.deadline(check.params, device.timeout) + DEADLINE_SLACK
            return await _guarded(module.probe(target, check.params, self.ctx), limit)

    async def _run_batch(
        self,
        module: ModuleType,
        jobs: Sequence[Job],
        done: Callable[[Job, ProbeResult], None],
        spread: float,
    ) -> None:
        """Hand all jobs of a batch-capable probe to it, grouped by identical settings."""
        groups: dict[tuple[Any, float], list[Job]] = {}
        for job in jobs:
            groups.setdefault((job[1].params, job[0].timeout), []).append(job)
        await asyncio.gather(
            *(self._run_group(module, params, check_timeout, group, done, spread)
              for (params, check_timeout), group in groups.items())
        )

    async def _run_group(
        self,
        module: ModuleType,
        params: Any,
        check_timeout: float,
        group: Sequence[Job],
        done: Callable[[Job, ProbeResult], None],
        spread: float,
    ) -> None:
        """One ``probe_batch`` call, capped by the module's ``batch_deadline``.

        The deadline follows from the batch's size and pace; a batch that overruns it
        anyway says nothing about its devices: its results are ``batch_overran`` skips.
        """
        targets = [Target(d.id, d.address, c.port, check_timeout) for d, c in group]
        limit = None
        if hasattr(module, "batch_deadline"):
            limit = module.batch_deadline(len(targets), params, check_timeout, spread)
            limit += DEADLINE_SLACK
        paced = {"spread": spread} if spread > 0 else {}
        started = time.perf_counter()
        try:
            batch = module.probe_batch(targets, params, self.ctx, **paced)
            results = await (within(batch, limit) if limit is not None else batch)
        except DeadlinePassed:
            results = [ProbeResult.fail(Reason.BATCH_OVERRAN, f"batch overran {limit:.1f} s")
                       for _ in group]
        except Exception as exc:  # noqa: BLE001 - a probe bug must not end the sweep
            log.exception("probe %s failed for a batch of %d", module.NAME, len(group))
            results = [_from_exception(exc) for _ in group]
        elapsed = time.perf_counter() - started
        for index, (job, result) in enumerate(zip(group, results, strict=True), 1):
            if not result.duration_seconds:
                result.duration_seconds = elapsed
            done(job, result)
            if not index % SLICE:  # a city's batch: let the loop turn between slices
                await asyncio.sleep(0)

    async def sweep(
        self,
        devices: Iterable[Device],
        progress: Callable[[DeviceResult], None] | None = None,
    ) -> list[DeviceResult]:
        """Run every check of every device once; results in the devices' order.

        With ``spread`` > 0 (the daemon's runner) each probe's checks start evenly over
        that part of the devices' shortest interval, no slower than ``MIN_PACE`` per
        second (a few re-checked parents do not wait); video samples evenly over it
        whatever their number (``_video_window``). With 0 (a sweep on demand) the
        window is the shortest the capacity settings allow for these checks (ICMP
        echoes, service checks and SNMP GETs per second, whichever needs longest): a
        city swept on demand is paced like a scheduled sweep, not a burst the process
        cannot answer in time. Always within each probe's concurrency cap.
        """
        results: list[DeviceResult] = []
        remaining: dict[str, int] = {}
        by_probe: dict[str, list[Job]] = {}
        index: dict[str, DeviceResult] = {}
        for count, device in enumerate(devices, 1):
            dr = DeviceResult(device)
            results.append(dr)
            index[device.id] = dr
            remaining[device.id] = len(device.checks)
            for check in device.checks:
                by_probe.setdefault(check.probe, []).append((device, check))
            if not count % SLICE:  # a city's sweep: let the loop turn between slices
                await asyncio.sleep(0)

        def done(job: Job, result: ProbeResult) -> None:
            device, check = job
            dr = index[device.id]
            dr.checks[check.name] = result
            remaining[device.id] -= 1
            if remaining[device.id] == 0:
                dr.finished_at = time.time()
                if progress is not None:
                    progress(dr)

        async def one(job: Job) -> None:
            done(job, await self.run_check(*job))

        spread = 0.0
        if self.spread > 0 and results:
            spread = min(paced_window(dr.device.interval, dr.device.timeout, self.spread)
                         for dr in results)
        elif results:  # on demand: over the shortest window the capacity settings allow
            spread = shortest_window((c for jobs in by_probe.values() for _, c in jobs),
                                     self.capacity)
        tasks: list[asyncio.Future[None]] = []
        for probe, jobs in by_probe.items():
            module = get_probe(probe)
            allowed: list[Job] = []
            for job in jobs:
                if self.allow.allows(job[0].address):
                    allowed.append(job)
                else:  # refused at once by run_check, as DENIED
                    tasks.append(asyncio.ensure_future(one(job)))
            if hasattr(module, "probe_batch"):
                batch_spread = min(spread, len(allowed) / MIN_PACE)
                tasks.append(
                    asyncio.ensure_future(self._run_batch(module, allowed, done, batch_spread))
                )
            elif probe == VIDEO and spread > 0 and len(allowed) > 1:
                window = _video_window(module, allowed, spread)
                tasks.append(asyncio.ensure_future(_paced(allowed, one, window, min_pace=0.0)))
            elif spread > 0 and len(allowed) > 1:
                tasks.append(asyncio.ensure_future(_paced(allowed, one, spread)))
            else:
                tasks.extend(asyncio.ensure_future(one(j)) for j in allowed)
        for device in (dr.device for dr in results if not dr.device.checks):
            dr = index[device.id]
            dr.finished_at = time.time()
            if progress is not None:
                progress(dr)
        if tasks:
            await asyncio.gather(*tasks)
        return results


def _video_window(module: ModuleType, jobs: Sequence[Job], spread: float) -> float:
    """Seconds over which a sweep starts its video samples: evenly, as the sessions they
    hold are a concurrency (at ``MIN_PACE`` a few dozen 2 s samples would hold 40 at
    once, past the default cap, and be skipped); ending a sample's deadline before the
    window does, and over half of it at least."""
    longest: float = max(module.deadline(check.params, device.timeout)
                         for device, check in jobs)
    return max(spread - longest, spread / 2)


async def _paced(jobs: Sequence[Job], one: Callable[[Job], Any], spread: float,
                 min_pace: float = MIN_PACE) -> None:
    """Start the jobs evenly over ``spread`` seconds (at least ``min_pace``/s), then wait.

    Never faster than that pace: when the loop was held up (a busy turn, a collection),
    the jobs overdue by more than ``PACE_STEP`` are not started in one burst, which
    would load the process at the very moment it is behind; the rest of the schedule
    slides by the excess instead.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    step = spread / len(jobs) if min_pace <= 0 else min(spread / len(jobs), 1 / min_pace)
    started: list[asyncio.Future[None]] = []
    for index, job in enumerate(jobs):
        now = loop.time()
        behind = now - (start + index * step)
        if behind > PACE_STEP:
            start += behind - PACE_STEP
        elif behind <= -PACE_STEP:
            await asyncio.sleep(-behind)
        started.append(asyncio.ensure_future(one(job)))
    await asyncio.gather(*started)


async def _guarded(coro: Any, limit: float) -> ProbeResult:
    """Await a probe with a hard deadline, timing it and mapping any exception."""
    started = time.perf_counter()
    try:
        result = await within(coro, limit)
        if not isinstance(result, ProbeResult):
            result = ProbeResult.fail(Reason.ERROR, f"probe returned {type(result).__name__}")
    except DeadlinePassed:
        # A probe times out on its own within its deadline when a device is silent; past
        # that deadline only this process (a busy loop, a probe bug) can have held it.
        result = ProbeResult.fail(Reason.CHECK_OVERRAN,
                                  f"no result within the check's {limit:.2f} s deadline")
    except Exception as exc:  # noqa: BLE001 - every failure is a result, never a crash
        log.debug("probe raised", exc_info=True)
        result = _from_exception(exc)
    result.duration_seconds = time.perf_counter() - started
    return result


def _from_exception(exc: BaseException) -> ProbeResult:
    if isinstance(exc, MemoryError):
        return ProbeResult.fail(Reason.LOCAL_RESOURCES, "probe error: out of memory")
    if isinstance(exc, OSError):
        return ProbeResult.fail(reason_for_oserror(exc), f"{type(exc).__name__}: {exc}")
    return ProbeResult.fail(Reason.ERROR, f"probe error: {type(exc).__name__}: {exc}")
