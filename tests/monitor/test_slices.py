"""A sweep's bookkeeping over many devices gives the event loop turns while it runs.

At city scale a sweep's end (results into state, faults, the metrics re-render) done in
one go held the daemon's loop for seconds: probe replies, deadlines and ``/healthz``
waited behind it. Here 3,000 cameras are pinged for real on loopback (one echo each)
and a concurrent task watches, at every loop turn, how far the work has got: it must
see the work half done — some devices recorded, others not yet; the group's metrics
being re-rendered while it runs. Interleaving is asserted, never time.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from netwatch.inventory import CheckSpec, County, Device, Inventory
from netwatch.metrics import Exposition
from netwatch.monitor import AllowList, Monitor, Runner
from netwatch.store import StoreThread
from probes import icmp
from probes.base import ProbeContext

DEVICES = 3000  # three slices of 1,000 and more


def fleet() -> Inventory:
    check = CheckSpec("icmp", "icmp", None, icmp.parse_params({"count": 1}))
    devices = tuple(
        Device(id=f"cam-{i}", kind="camera", county="east",
               address=f"127.62.{i // 250 + 10}.{i % 250 + 1}", name=f"cam {i}",
               checks=(check,), interval=60.0, timeout=2.0)
        for i in range(DEVICES))
    return Inventory(path="t.yaml", city="T", timezone="UTC",
                     counties={"east": County("east", "East", "east police")}, devices=devices)


async def test_sweep_end_yields_to_the_loop_between_slices(tmp_path: Path) -> None:
    store = StoreThread.open(tmp_path / "netwatch.db")
    try:
        async with ProbeContext() as ctx:
            monitor = Monitor(fleet(), Runner(ctx, AllowList.parse("127.0.0.0/8")),
                              store)
            exposition = Exposition(monitor, process_metrics=False)
            exposition.attach()
            first, last = (monitor.states[f"cam-{i}"] for i in (0, DEVICES - 1))
            key = next(iter(monitor.groups))
            rendered_before = exposition._chunks[key]
            seen: set[tuple[bool, bool, bool]] = set()  # first, last recorded; re-rendered
            sweep = asyncio.create_task(monitor.run_group(key))
            while not sweep.done():
                seen.add((first.checked_at > 0, last.checked_at > 0,
                          exposition._chunks[key] is not rendered_before))
                await asyncio.sleep(0)
            await sweep
            assert first.up and last.up  # the pings were answered
            # the watcher ran while the first device was recorded and the last not yet
            assert (True, False, False) in seen, seen
            # ... and while the whole group was recorded but its metrics not yet re-rendered
            assert (True, True, False) in seen, seen
            assert exposition._chunks[key] is not rendered_before
            assert b'netwatch_device_up{county="east",kind="camera",device="cam-2999"} 1' \
                in exposition.render()
    finally:
        store.close()
