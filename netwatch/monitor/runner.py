"""The only caller of probes: deadlines, timing, concurrency caps, the allow-list.

A sweep runs every check of every given device once. Checks of one probe run
under that probe's concurrency cap; probes that define ``probe_batch`` (ICMP)
get all their targets at once so one engine can pace them. Whatever a probe
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
from probes import get_probe
from probes.base import ProbeContext, ProbeResult, Reason, Target, reason_for_oserror

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 500
DEADLINE_SLACK = 0.5  # seconds the runner waits beyond a probe's own deadline


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
    ) -> None:
        self.ctx = ctx
        self.allow = allow or AllowList(None)
        self._concurrency = concurrency or {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    def _semaphore(self, probe: str, module: ModuleType) -> asyncio.Semaphore:
        sem = self._semaphores.get(probe)
        if sem is None:
            limit = self._concurrency.get(probe) or getattr(
                module, "CONCURRENCY", DEFAULT_CONCURRENCY
            )
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
        async with self._semaphore(check.probe, module):
            limit = module.deadline(check.params, device.timeout) + DEADLINE_SLACK
            return await _guarded(module.probe(target, check.params, self.ctx), limit)

    async def _run_batch(
        self, module: ModuleType, jobs: Sequence[Job], done: Callable[[Job, ProbeResult], None]
    ) -> None:
        """Hand all jobs of a batch-capable probe to it, grouped by identical settings."""
        groups: dict[tuple[Any, float], list[Job]] = {}
        for job in jobs:
            groups.setdefault((job[1].params, job[0].timeout), []).append(job)
        await asyncio.gather(
            *(self._run_group(module, params, check_timeout, group, done)
              for (params, check_timeout), group in groups.items())
        )

    async def _run_group(
        self,
        module: ModuleType,
        params: Any,
        check_timeout: float,
        group: Sequence[Job],
        done: Callable[[Job, ProbeResult], None],
    ) -> None:
        """One ``probe_batch`` call, capped by the module's ``batch_deadline`` when it has one."""
        targets = [Target(d.id, d.address, c.port, check_timeout) for d, c in group]
        limit = None
        if hasattr(module, "batch_deadline"):
            limit = module.batch_deadline(len(targets), params, check_timeout) + DEADLINE_SLACK
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                results = await module.probe_batch(targets, params, self.ctx)
        except TimeoutError:
            results = [ProbeResult.fail(Reason.TIMEOUT, f"batch overran {limit:.1f} s")
                       for _ in group]
        except Exception as exc:  # noqa: BLE001 - a probe bug must not end the sweep
            log.exception("probe %s failed for a batch of %d", module.NAME, len(group))
            results = [_from_exception(exc) for _ in group]
        elapsed = time.perf_counter() - started
        for job, result in zip(group, results, strict=True):
            if not result.duration_seconds:
                result.duration_seconds = elapsed
            done(job, result)

    async def sweep(
        self,
        devices: Iterable[Device],
        progress: Callable[[DeviceResult], None] | None = None,
    ) -> list[DeviceResult]:
        """Run every check of every device once; results in the devices' order."""
        results: list[DeviceResult] = []
        remaining: dict[str, int] = {}
        by_probe: dict[str, list[Job]] = {}
        index: dict[str, DeviceResult] = {}
        for device in devices:
            dr = DeviceResult(device)
            results.append(dr)
            index[device.id] = dr
            remaining[device.id] = len(device.checks)
            for check in device.checks:
                by_probe.setdefault(check.probe, []).append((device, check))

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

        tasks: list[asyncio.Future[None]] = []
        for probe, jobs in by_probe.items():
            module = get_probe(probe)
            allowed = [j for j in jobs if self.allow.allows(j[0].address)]
            for job in jobs:
                if not self.allow.allows(job[0].address):
                    tasks.append(asyncio.ensure_future(one(job)))
            if hasattr(module, "probe_batch"):
                tasks.append(asyncio.ensure_future(self._run_batch(module, allowed, done)))
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


async def _guarded(coro: Any, limit: float) -> ProbeResult:
    """Await a probe with a hard deadline, timing it and mapping any exception."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            result = await coro
        if not isinstance(result, ProbeResult):
            result = ProbeResult.fail(Reason.ERROR, f"probe returned {type(result).__name__}")
    except TimeoutError:
        result = ProbeResult.fail(Reason.TIMEOUT, f"no result within {limit:.2f} s")
    except Exception as exc:  # noqa: BLE001 - every failure is a result, never a crash
        log.debug("probe raised", exc_info=True)
        result = _from_exception(exc)
    result.duration_seconds = time.perf_counter() - started
    return result


def _from_exception(exc: BaseException) -> ProbeResult:
    if isinstance(exc, OSError):
        return ProbeResult.fail(reason_for_oserror(exc), f"{type(exc).__name__}: {exc}")
    return ProbeResult.fail(Reason.ERROR, f"probe error: {type(exc).__name__}: {exc}")
