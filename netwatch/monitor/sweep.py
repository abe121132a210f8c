"""One sweep on demand (``netwatch probe``, ``netwatch demo``): a runner in a fresh context."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from netwatch.inventory import Device
from netwatch.monitor.allowlist import AllowList
from netwatch.monitor.capacity import Capacity
from netwatch.monitor.runner import DeviceResult, Runner
from probes.base import ProbeContext


async def sweep_once(
    devices: Sequence[Device],
    allow: AllowList,
    *,
    capacity: Capacity | None = None,
    progress: Callable[[DeviceResult], None] | None = None,
) -> list[DeviceResult]:
    """Probe every device once, no faster than ``capacity`` allows (as the daemon does);
    ``progress`` is called with each device's result as it comes (the command's progress bar)."""
    capacity = capacity or Capacity()
    async with ProbeContext({"icmp": {"rate": capacity.icmp_rate}}) as ctx:
        runner = Runner(ctx, allow, capacity=capacity)
        return await runner.sweep(devices, progress=progress)
