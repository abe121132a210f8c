"""The sweep scheduler: overruns are counted, and shutdown cancels running sweeps quietly."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import pytest

from netwatch.daemon import SweepScheduler
from netwatch.monitor import GroupStats


@dataclass
class _Group:
    interval: float


@dataclass
class SlowMonitor:
    """A monitor whose one group's sweep blocks until released: the scheduler's whole contract."""

    groups: dict[str, _Group] = field(default_factory=lambda: {"camera@0.2": _Group(0.2)})
    stats: dict[str, GroupStats] = field(default_factory=lambda: {"camera@0.2": GroupStats()})
    states: dict[str, object] = field(default_factory=dict)  # no devices: duties need it
    faults: dict[str, dict[str, object]] = field(default_factory=dict)
    listeners: list[object] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: int = 0

    def active(self, county: str) -> bool:
        return True  # one instance: active for every county

    async def run_group(self, key: str) -> None:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise


async def test_overruns_counted_and_shutdown_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    """A sweep still due while running counts an overrun; shutdown unwinds it quietly."""
    monitor = SlowMonitor()
    scheduler = SweepScheduler(monitor, "Asia/Shanghai")  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG)
    scheduler.start()
    await asyncio.wait_for(monitor.started.wait(), 10)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while monitor.stats["camera@0.2"].overruns == 0 and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    assert monitor.stats["camera@0.2"].overruns >= 1
    await scheduler.shutdown()
    assert monitor.cancelled == 1
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert not scheduler.scheduler.running
