"""The devices' state in the store (``device_status``) at 100,000 devices: what it costs to write.

An instance active for a county writes a device's row only when its state changes (up or
down, the verdict's fault, reasons, findings, a check's success or reason), one
transaction per county per sweep, fenced by the county's lease, on the database thread
(``netwatch.monitor.status``). This runs the real ``Monitor`` and ``StatusWriter`` over
100,000 cameras (ICMP and RTSP, one group at a 60 s interval) in 10 counties, all leased
to this instance, with scripted probe results (no network), and times three phases:

- ``initial``: the first sweep writes every device (a start, or a takeover of the city);
- ``steady``: ``--sweeps`` sweeps at a realistic change rate, 0.1 % of the devices per
  sweep (50 go down, 50 of those down come back);
- ``outage``: one county's 5 % of the city (5,000 devices) goes down in one sweep, then
  ``recovery``: it comes back.

Per phase, one ``RESULT`` line: rows and transactions per sweep, the rows written per
second of database time (the store's capacity for this work), each transaction's time
(median and longest; the lease check included), the event loop's time finding the
changes and building their rows per sweep (``detect_ms``, in slices: the listener's
whole run) beside the monitor's own sweep (``sweep_ms``: recording and judging the
results it was handed, no probing), and the write load at the 60 s interval
(``load_rows_per_s``). With PostgreSQL (a server of this run's own, ``pgload.py``, on
127.75.9.1 only, ``fsync`` on) also the server's own count of rows written and WAL
bytes over the phase. Loopback only; bounded by ``--sweeps``.

    python bench/bench_status.py [--devices 100000] [--sweeps 10] [--engine sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from figures import result
from pgload import PrivateServer, Sample

import netwatch.monitor.status as status
from netwatch.inventory import CheckSpec, County, Device, Inventory
from netwatch.monitor import DeviceResult, Monitor, Ownership, StatusWriter, claim
from netwatch.store import Store, StoreThread, Target
from probes.base import ProbeResult, Reason

COUNTIES = 10
INTERVAL = 60.0
CHANGE = 0.001  # of the devices, per steady sweep
OUTAGE = 0.05  # of the devices: one county's share goes down at once
PG_HOST = "127.75.9.1"
CHECKS = (CheckSpec("icmp", "icmp", 0, None), CheckSpec("rtsp", "rtsp", 554, None))
UP = {"icmp": ProbeResult.ok(rtt_seconds=0.002, loss_ratio=0.0, jitter_seconds=0.0003),
      "rtsp": ProbeResult.ok(status_code=200)}
DOWN = {"icmp": ProbeResult.fail(Reason.TIMEOUT, "no reply", loss_ratio=1.0),
        "rtsp": ProbeResult.fail(Reason.TIMEOUT, "no answer")}


def city(n: int) -> Inventory:
    counties = {f"c{i:02}": County(f"c{i:02}", f"County {i}", f"Bureau {i}")
                for i in range(COUNTIES)}
    devices = tuple(
        Device(id=f"cam-{i:06}", kind="camera", county=f"c{i % COUNTIES:02}",
               address="127.75.8.1", name=f"camera {i}", checks=CHECKS, interval=INTERVAL,
               timeout=1.0, open_after=10**6)  # no fault opens: only state rows are timed
        for i in range(n))
    return Inventory(path="bench.yaml", city="Bench", timezone="UTC", counties=counties,
                     devices=devices)


class Runner:
    """Scripted results: every device up, those in ``down`` down (shared result objects)."""

    def __init__(self) -> None:
        self.down: set[str] = set()

    async def sweep(self, devices: Iterable[Device]) -> list[DeviceResult]:
        down = self.down
        return [DeviceResult(d, dict(DOWN if d.id in down else UP)) for d in devices]


class Timed:
    """Times each status transaction on the database thread, and the loop's detection."""

    def __init__(self, writer: StatusWriter) -> None:
        self.transactions: list[tuple[float, int]] = []  # seconds, rows
        self.detect: list[float] = []
        self.sweeps: list[float] = []  # the monitor's own sweep, before its listeners
        original = status.write_status

        def write(store: Store, rows: Any, *args: Any) -> int:
            started = time.perf_counter()
            out = original(store, rows, *args)
            self.transactions.append((time.perf_counter() - started, len(rows)))
            return out

        status.write_status = write  # what the writer's database calls run
        on_sweep = writer.on_sweep

        async def timed(key: str, touched: Any) -> None:
            started = time.perf_counter()
            await on_sweep(key, touched)
            self.detect.append(time.perf_counter() - started)
            self.sweeps.append(writer.monitor.stats[key].last_duration)

        self.on_sweep = timed

    def take(self) -> tuple[list[tuple[float, int]], list[float], list[float]]:
        out = self.transactions, self.detect, self.sweeps
        self.transactions, self.detect, self.sweeps = [], [], []
        return out


async def sweep(monitor: Monitor, writer: StatusWriter) -> None:
    for key in list(monitor.groups):
        await monitor.run_group(key)
    await writer.flush(600.0)


def report(engine: str, phase: str, sweeps: int, timed: Timed, pg: PrivateServer | None,
           before: Sample | None) -> None:
    transactions, detect, swept = timed.take()
    rows = sum(n for _, n in transactions)
    seconds = sum(s for s, _ in transactions)
    times = [s * 1000 for s, _ in transactions] or [0.0]
    figures: dict[str, float | int | str] = {
        "sweeps": sweeps, "rows_per_sweep": rows / sweeps,
        "transactions_per_sweep": len(transactions) / sweeps,
        "rows_per_s": rows / seconds if seconds else 0.0,
        "tx_median_ms": statistics.median(times), "tx_max_ms": max(times),
        "detect_ms": statistics.median(detect) * 1000 if detect else 0.0,
        "sweep_ms": statistics.median(swept) * 1000 if swept else 0.0,
        "load_rows_per_s": rows / sweeps / INTERVAL}
    if pg is not None and before is not None:
        d = pg.sample(time.monotonic()) - before
        figures.update(server_rows_written=d.written, wal_mib=d.wal_bytes / 2**20,
                       server_cpu_s=d.cpu)
    print(f"{engine} {phase}: {rows:,} rows in {len(transactions)} transactions over "
          f"{sweeps} sweep(s), {seconds:.3f} s of database time", flush=True)
    result("status", f"{phase}-{engine}", **figures)


async def run(engine: str, target: Target, devices: int, sweeps: int,
              pg: PrivateServer | None) -> None:
    inventory = city(devices)
    with Store.open(target) as store:  # every county leased to this instance
        held = claim(store, "bench", set(inventory.counties), {}, ttl=3600.0).held
    db = StoreThread.open(target)
    try:
        runner = Runner()
        clock = [1_800_000_000.0]
        monitor = Monitor(inventory, runner, db, clock=lambda: clock[0],  # type: ignore[arg-type]
                          ownership=Ownership("bench", generations=dict(held)))
        writer = StatusWriter(monitor)
        timed = Timed(writer)
        monitor.listeners.append(timed.on_sweep)
        rng = random.Random(1)
        ids = [d.id for d in inventory.devices]

        def sample() -> Sample | None:
            return None if pg is None else pg.sample(time.monotonic())

        async def cycle() -> None:
            clock[0] += INTERVAL
            await sweep(monitor, writer)

        before = sample()
        await cycle()
        report(engine, "initial", 1, timed, pg, before)
        before = sample()
        changes = int(devices * CHANGE) // 2
        for _ in range(sweeps):
            back = set(rng.sample(sorted(runner.down), min(changes, len(runner.down))))
            runner.down -= back
            runner.down |= set(rng.sample(ids, changes))
            await cycle()
        report(engine, "steady", sweeps, timed, pg, before)
        runner.down.clear()
        await cycle()  # everything up again before the outage
        timed.take()
        before = sample()
        outage = [d.id for d in inventory.devices if d.county == "c00"][:int(devices * OUTAGE)]
        runner.down = set(outage)
        await cycle()
        report(engine, "outage", 1, timed, pg, before)
        before = sample()
        runner.down.clear()
        await cycle()
        report(engine, "recovery", 1, timed, pg, before)
        assert writer.failed == 0, "a status write failed"
    finally:
        db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--sweeps", type=int, default=10)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    engines = ("sqlite", "postgresql") if args.engine == "both" else (args.engine,)
    for engine in engines:
        with tempfile.TemporaryDirectory(prefix="netwatch-bench-") as tmp:
            pg = PrivateServer(PG_HOST) if engine == "postgresql" else None
            try:
                target: Target = Path(tmp) / "netwatch.db" if pg is None else pg.url
                asyncio.run(run(engine, target, args.devices, args.sweeps, pg))
            finally:
                if pg is not None:
                    print("\n".join(f"  {line}" for line in pg.busiest(5)), flush=True)
                    pg.close()


if __name__ == "__main__":
    sys.exit(main())
