"""One sweep on demand (``netwatch probe``, ``netwatch demo``): a runner in a fresh context."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
    show_progress: bool = False,
) -> list[DeviceResult]:
    """Probe every device once, no faster than ``capacity`` allows (as the daemon does);
    a progress bar on stderr when asked (a terminal)."""
    capacity = capacity or Capacity()
    async with ProbeContext({"icmp": {"rate": capacity.icmp_rate}}) as ctx:
        runner = Runner(ctx, allow, capacity=capacity)
        if not show_progress:
            return await runner.sweep(devices)
        columns = (
            TextColumn("probing"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("devices"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
            task = bar.add_task("sweep", total=len(devices))
            return await runner.sweep(devices, progress=lambda _: bar.advance(task))
