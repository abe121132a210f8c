"""The event loop's longest stall with the store called on the loop, and on its own thread.

Builds a city-sized SQLite store (``--devices`` devices' monitoring start, their fault
history: 10 % closed episodes, 2 % open), then runs the same store work twice: once
called synchronously on the event loop (as the daemon did before the database thread),
once through ``StoreThread`` (as it does now). The work is what the daemon does at that
scale, ``--rounds`` times: a county's switch fails (2 % of the devices' faults open in
one batch, then close), the first sweep's monitoring starts for every device are
recorded, a token is created (a durable write, like a batch of readings), a scrape's
and a request's reads; and once per round the database stalls: another connection
holds the write lock for ``--hold`` seconds while a fault batch waits to be written
(a stalled or distant server, played by SQLite's busy wait).

Meanwhile a loop-lag gauge (a 10 ms sleep, how late it wakes) measures the longest
stall, and a prober connects every 20 ms to a loopback "device" (an echo server on a
thread of its own that answers after 100 ms) with a 500 ms deadline, as a TCP check
would: an answer that misses its deadline because the loop was held is a check the
monitor would have called failed. On the loop, the daemon's store calls came from
different callbacks with turns of the loop between them, so each call here is
followed by one. One ``RESULT`` line per mode. Loopback only (127.70.0.1); bounded by
``--rounds``.

    python bench/bench_store_loop.py [--devices 100000] [--rounds 3] [--hold 2.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from figures import result

from netwatch.monitor import record_first_checks
from netwatch.store import (
    FaultLog,
    NewEpisode,
    Store,
    StoreThread,
    TokenStore,
    find_episodes,
    open_episodes,
    open_mark,
)

ECHO_HOST = "127.70.0.1"
PROBE_EVERY = 0.02  # seconds between the prober's connects
PROBE_DEADLINE = 0.5  # seconds, a TCP check's deadline
DEVICE_DELAY = 0.1  # seconds the device takes to answer
GAUGE_EVERY = 0.01  # seconds the lag gauge sleeps
NOW = 1_790_000_000.0

Call = Callable[..., Awaitable[Any]]


def episode(i: int, at: float) -> NewEpisode:
    return NewEpisode(f"cam-{i}", f"c{i % 16:02d}", "camera", "unreachable", at - 180, at,
                      None, "icmp: timeout (no reply)", {"failed_checks": ["icmp: timeout"]})


def build(path: Path, devices: int) -> None:
    """The store of a city that has run for a while: monitoring starts, fault history."""
    with Store.open(path) as store:
        record_first_checks(store, [(f"cam-{i}", NOW - 90 * 86400) for i in range(devices)])
        log = FaultLog(store)
        closed = devices // 10
        for start in range(0, closed, 5000):  # 10 %: closed episodes of the past
            opened = log.apply([episode(i, NOW - 86400 - i)
                                for i in range(start, min(start + 5000, closed))], [], [])
            log.apply([], [], [(e.id, NOW - 3600, "recovered") for e in opened])
        log.apply([episode(i, NOW - 600) for i in range(1, devices, 50)], [], [])  # 2 % open


def open_batch(store: Store, first: int, count: int, at: float) -> list[int]:
    """A county's switch fails: its cameras' faults open together (one monitor batch)."""
    opened = FaultLog(store).apply([episode(first + i, at) for i in range(count)], [], [])
    return [e.id for e in opened]


def close_batch(store: Store, ids: list[int], at: float) -> None:
    FaultLog(store).apply([], [], [(i, at, "recovered") for i in ids])


def reads(store: Store) -> int:
    """A scrape's and a request's reads: what the coverage and the API ask."""
    count, _ = open_mark(store)
    find_episodes(store, state="closed", limit=500)
    return count + len(open_episodes(store))


def durable(store: Store, n: int) -> None:
    TokenStore(store).create("tester", ["c00"], name=f"bench {n}")


class Device:
    """An echo server answering after ``DEVICE_DELAY``, on a thread and loop of its own."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(),), daemon=True)
        self._thread.start()
        self._ready.wait()

    async def _serve(self) -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            line = await reader.readline()
            await asyncio.sleep(DEVICE_DELAY)
            writer.write(line)
            await writer.drain()
            writer.close()

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = await asyncio.start_server(echo, ECHO_HOST, 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()

    def close(self) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)


class Lock:
    """Another connection holding the write lock for ``hold`` seconds (in a thread)."""

    def __init__(self, path: Path, hold: float) -> None:
        self.taken = threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(path, hold), daemon=True)
        self.thread.start()
        self.taken.wait()

    def _hold(self, path: Path, hold: float) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        self.taken.set()
        time.sleep(hold)
        conn.execute("ROLLBACK")
        conn.close()


async def workload(call: Call, path: Path, devices: int, rounds: int, hold: float,
                   phase: list[str]) -> None:
    batch = max(devices // 50, 1)
    for n in range(rounds):
        phase[0] = "work"
        at = NOW + n * 60
        ids = await call(open_batch, devices + n * batch, batch, at)
        await call(reads)
        await call(record_first_checks, [(f"cam-{i}", at) for i in range(devices)])
        await call(durable, n)
        await call(close_batch, ids, at + 60)
        phase[0] = "stalled"
        phase.append("stalled")  # counts the stalls begun: a gauge spanning one sees it
        lock = Lock(path, hold)  # the database stalls while a batch waits to be written
        ids = await call(open_batch, devices * 2 + n * batch, batch, at + 120)
        lock.thread.join()
        phase[0] = "work"
        await call(close_batch, ids, at + 180)
        await call(reads)


async def measure(mode: str, path: Path, devices: int, rounds: int,
                  hold: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    stall = {"work": 0.0, "stalled": 0.0}
    phase = ["work"]
    probes = {"sent": 0, "late": 0}
    stop = asyncio.Event()

    async def gauge() -> None:
        while not stop.is_set():
            before, during, begun = loop.time(), phase[0], len(phase)
            await asyncio.sleep(GAUGE_EVERY)
            late = loop.time() - before - GAUGE_EVERY
            stalled = "stalled" in (during, phase[0]) or len(phase) != begun
            key = "stalled" if stalled else "work"
            stall[key] = max(stall[key], late)

    device = Device()
    port = device.port

    async def check() -> None:
        probes["sent"] += 1
        try:
            async with asyncio.timeout(PROBE_DEADLINE):
                reader, writer = await asyncio.open_connection(ECHO_HOST, port)
                writer.write(b"ping\n")
                await reader.readline()
                writer.close()
        except TimeoutError:
            probes["late"] += 1

    async def prober() -> None:
        checks: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            task = asyncio.create_task(check())
            checks.add(task)
            task.add_done_callback(checks.discard)
            await asyncio.sleep(PROBE_EVERY)
        await asyncio.gather(*checks)

    if mode == "loop":
        store = Store.open(path)

        async def call(fn: Callable[..., Any], *args: Any) -> Any:
            try:
                return fn(store, *args)  # synchronous, on the loop: as before the database thread
            finally:
                await asyncio.sleep(0)  # the next call came from another callback

        close: Callable[[], None] = store.close
    else:
        db = StoreThread.open(path)
        call, close = db.call, db.close
    tasks = [asyncio.create_task(gauge()), asyncio.create_task(prober())]
    await asyncio.sleep(0.2)  # the gauge and the prober settle first
    started = time.perf_counter()
    try:
        await workload(call, path, devices, rounds, hold, phase)
    finally:
        wall = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*tasks)
        device.close()
        close()
    return {"longest_stall_s": max(stall.values()), "stall_outside_lock_s": stall["work"],
            "late_checks": probes["late"], "checks": probes["sent"], "work_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hold", type=float, default=2.0,
                        help="seconds another connection holds the write lock per round")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 0 <= args.hold <= 4.5 and 100 <= args.devices <= 10**6):
        parser.error("keep it bounded: --rounds 1..20, --hold 0..4.5 s (under the 5 s busy "
                     "timeout), --devices 100..1,000,000")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        t0 = time.perf_counter()
        build(path, args.devices)
        print(f"store of {args.devices:,} devices built in {time.perf_counter() - t0:.1f} s "
              f"({path.stat().st_size / 2**20:.0f} MiB)", flush=True)
        for mode in ("loop", "thread"):
            figures = asyncio.run(measure(mode, path, args.devices, args.rounds, args.hold))
            print(f"store on the {mode}: longest loop stall {figures['longest_stall_s']:.3f} s "
                  f"({figures['stall_outside_lock_s']:.3f} s outside the database stalls), "
                  f"{figures['late_checks']} of {figures['checks']} checks past their "
                  f"{PROBE_DEADLINE:g} s deadline, store work {figures['work_s']:.1f} s",
                  flush=True)
            result("store_loop", f"{mode}-{args.devices}", hold_s=args.hold,
                   rounds=args.rounds, **figures)


if __name__ == "__main__":
    main()
