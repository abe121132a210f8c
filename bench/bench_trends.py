"""Early warnings at 100,000 devices: the judging each sweep costs, the memory, the flush.

``netwatch.monitor.trends`` judges every device of the counties an instance is active
for after each sweep (on the event loop, in slices) and writes the baselines every
``flush_every``, one transaction per county. This times, with scripted ICMP results
(no network) on cameras whose state has recorded one cycle:

- ``judge``: one pass of ``judge`` over every device (``--rounds`` passes, median);
- ``memory``: what the devices' ``Trend`` objects hold (tracemalloc);
- ``flush``: one write of every baseline to a SQLite store in ``--counties`` counties.

    python bench/bench_trends.py [--devices 100000] [--rounds 3] [--counties 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

from figures import result

from netwatch.inventory import CheckSpec, Device, WarningSettings
from netwatch.monitor import DeviceState
from netwatch.monitor.trends import Trend, Write, judge, write_trends
from netwatch.store import Store
from probes.base import ProbeResult

CAMERA = Device(id="cam", kind="camera", county="c0", address="127.80.0.1", name="cam",
                checks=(CheckSpec("icmp", "icmp", 0, None),), interval=60.0, timeout=1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--counties", type=int, default=10)
    args = parser.parse_args()
    settings = WarningSettings()
    result_ok = {"icmp": ProbeResult.ok(rtt_seconds=0.004, loss_ratio=0.0,
                                        jitter_seconds=0.001)}
    states = [DeviceState(replace(CAMERA, id=f"cam-{i}", county=f"c{i % args.counties}"))
              for i in range(args.devices)]
    for state in states:
        state.record(result_ok, 1000.0)
    tracemalloc.start()
    trends = [Trend() for _ in states]
    for state, trend in zip(states, trends, strict=True):
        judge(trend, state, False, 1000.0, settings)
    memory = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    times = []
    for n in range(args.rounds):
        began = time.perf_counter()
        for state, trend in zip(states, trends, strict=True):
            judge(trend, state, False, 1060.0 + 60 * n, settings)
        times.append(time.perf_counter() - began)
    result("trends", "judge", devices=args.devices, seconds=statistics.median(times),
           us_per_device=statistics.median(times) / args.devices * 1e6)
    result("trends", "memory", devices=args.devices, mb=memory / 1e6,
           bytes_per_device=memory // args.devices)
    writes: dict[str, Write] = {}
    for state, trend in zip(states, trends, strict=True):
        writes.setdefault(state.device.county, Write()).baselines[state.device.id] = (
            trend.baseline_row())
    with tempfile.TemporaryDirectory() as tmp, Store.open(Path(tmp) / "bench.db") as store:
        began = time.perf_counter()
        for county, write in writes.items():
            write_trends(store, county, "bench", write)
        flush = time.perf_counter() - began
    result("trends", "flush", devices=args.devices, transactions=len(writes), seconds=flush,
           rows_per_s=args.devices / flush)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
