"""The daemon at city scale: ``netwatch run`` over 100,000 devices on loopback targets.

All devices get ICMP (5 echoes); 10,000 of them a service check (7,000 cameras with
RTSP, 3,000 endpoints with SIP); 2,000 trunking sites SNMP (200 of them v3
authPriv). Every group runs at a 60 s interval. The device lab plays the
service devices in a separate process and its CPU is reported apart; ICMP is
answered by the kernel. The daemon runs here, in-process, exactly as ``netwatch
run`` builds it, and serves /metrics on loopback.

Prints, per sweep cycle: each group's sweep duration against the interval, the
daemon's CPU share of the wall time, the lab's CPU, open faults, the event loop's
longest stall, and per device kind and check the checks attempted, succeeded, failed by
reason and skipped by reason; then the peak RSS, the /metrics render time and size
(plain and gzip, as a scrape gets it) and one ``RESULT`` line, its case named after the
engine. The lab is healthy, so any failed or skipped check, open fault or overrun is a
false result: the run then FAILS (exit 1). Capacity settings come from the environment
as for ``netwatch run`` (``NETWATCH_ICMP_RATE``...).

``--engine`` picks the store behind the daemon's database thread: a SQLite file in a
temporary directory, or a PostgreSQL server of this run's own (``pgload.py``: initdb
into a temporary directory, 127.74.0.1 only, stopped and removed at the end). With
PostgreSQL each cycle also prints the server's load, read from its own statistics, and
a second ``RESULT`` line (bench ``daemon_db``) gives it over the steady cycles (2 on):
statements, transactions, rows written, returned and scanned, WAL bytes per second, and
the server's CPU; and what the first cycle wrote (every device's monitoring start).
``--video N`` gives N of the RTSP cameras a ``video`` check too (Digest credentials, the
default 2 s sample), sampled every ``--video-every`` (their kind's ``thresholds``), so that
hundreds of samples fall within the run; ``--onvif N`` gives N other RTSP cameras an
``onvif_time`` check (read every ``--video-every`` as well). The lab plays their video and
clocks: a sample that shows a problem (no video, no key frame, a frozen stream, a clock
off by more than ``clock_offset``) is a false result like a failed check, judged as the
monitor judges it, and the cycle's lines count the samples taken.
Loopback only (devices in 127.150.0.0/15); bounded by ``--cycles``.

    python bench/bench_daemon.py [--devices 100000] [--cycles 2] [--interval 60] [--echoes 5]
                                 [--engine sqlite|postgresql] [--video 0] [--onvif 0]
                                 [--video-every 30m]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from figures import result as print_result
from pgload import Load, PrivateServer, Sample

from netwatch.daemon import Daemon, DaemonOptions, Listen
from netwatch.inventory import CheckSpec, Inventory, load_inventory
from netwatch.lab.process import LabProcess
from netwatch.monitor import AllowList, DeviceResult, Runner
from netwatch.monitor.capacity import Capacity
from netwatch.monitor.sampling import SAMPLED, condition
from netwatch.runtime import run_async
from netwatch.store import Store, Target

SERVICES = 10_000  # devices with a service check besides ICMP
SNMP = 2_000  # trunking sites with SNMP
SNMP_V3 = 200
INTERVAL = 60
PG_HOST = "127.74.0.1"  # the run's own PostgreSQL server listens here only
ENGINES = ("sqlite", "postgresql")


def address(i: int) -> str:
    """Device i's loopback address in 127.150.0.0/15 (250 hosts per /24)."""
    block, rest = divmod(i, 250 * 256)
    return f"127.{150 + block}.{rest // 250}.{rest % 250 + 1}"


def write_inventory(folder: Path, n: int, interval: float = INTERVAL, video: int = 0,
                    onvif: int = 0, every: str = "30m") -> Path:
    """The benchmark city: n devices in a CSV file, 8 counties, one interval for all.

    The first ``video`` RTSP cameras leave their checks to the camera defaults, which add
    the ``video`` check (its credentials are a setting, so the CSV cell cannot give it);
    the next ``onvif`` RTSP cameras name ``onvif_time`` in their cell (open, port 80)."""
    rows = ["id,kind,county,address,name,checks,snmp_profile,uplink_if"]
    cameras = 0  # RTSP cameras so far
    for i in range(n):
        if i < SNMP:
            kind, checks = "trunking_site", "icmp;snmp"
            profile = "bench-v3" if i < SNMP_V3 else "bench-v2c"
            uplink = "1"
        elif i < SNMP + SERVICES:
            endpoint = (i - SNMP) % 10 < 3
            kind, checks = ("vc_endpoint", "icmp;sip") if endpoint else ("camera", "icmp;rtsp")
            profile = uplink = ""
            if not endpoint:
                if cameras < video:
                    checks = ""
                elif cameras < video + onvif:
                    checks = "icmp;rtsp;onvif_time"
                cameras += 1
        else:
            kind, checks, profile, uplink = "camera", "icmp", "", ""
        rows.append(f"b{i:06d},{kind},c{i % 8},{address(i)},设备{i},{checks},{profile},{uplink}")
    (folder / "devices.csv").write_text("\n".join(rows) + "\n")
    counties = "\n".join(
        f"  - {{id: c{c}, name: 基准县{c}, receiving_unit: 基准县{c}公安局}}" for c in range(8)
    )
    plain = f"{{interval: {interval:g}s}}"
    camera = (f"""
    interval: {interval:g}s
    thresholds: {{video_every: {every}, clock_every: {every}}}
    checks:
      - icmp
      - rtsp
      - {{probe: video, user: bench, password: "${{BENCH_RTSP_PASSWORD}}"}}"""
              if video or onvif else f" {plain}")
    (folder / "inventory.yaml").write_text(
        f"""city: {{name: 基准市, timezone: Asia/Shanghai}}
counties:
{counties}
defaults:
  camera:{camera}
  vc_endpoint: {plain}
  trunking_site: {plain}
snmp_profiles:
  bench-v2c: {{version: 2c, community: "${{BENCH_SNMP_COMMUNITY}}"}}
  bench-v3:
    version: 3
    user: bench
    auth_protocol: SHA256
    auth_key: "${{BENCH_SNMP_AUTH_KEY}}"
    priv_protocol: AES128
    priv_key: "${{BENCH_SNMP_PRIV_KEY}}"
device_files:
  - {{path: devices.csv}}
"""
    )
    return folder / "inventory.yaml"


def cpu_of(pid: int) -> tuple[float, float]:
    """A process's (user, system) CPU seconds, all its threads.

    On loopback the kernel answers each echo inside our own ``sendto``, so the daemon's
    system time includes the targets' side of ICMP (on a network, the device's work).
    """
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def scrape(base: str, gzip: bool) -> tuple[float, int]:
    """One /metrics GET as Prometheus does it: wall time and bytes on the wire."""
    headers = {"Accept-Encoding": "gzip" if gzip else "identity"}
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        t0 = time.perf_counter()
        async with session.get(f"{base}/metrics", headers=headers) as response:
            body = await response.read()
        return time.perf_counter() - t0, len(body)


class Tally:
    """Every check result of the daemon's sweeps, per device kind and check, until taken.

    A sample (``video``, ``onvif_time``) that completed but shows its problem counts as
    failed: the fault would open only at its confirmation, ``resample`` later, past the run.
    ``samples`` keeps the samples taken over the whole run, per probe."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        self.samples: Counter[str] = Counter()

    def wrap(self, runner: Runner) -> None:
        """Count what the daemon's own runner returns (its sweeps run unchanged)."""
        sweep = runner.sweep

        async def counted(devices: Any, progress: Any = None) -> list[DeviceResult]:
            results = await sweep(devices, progress)
            for index, row in enumerate(results, 1):
                if not index % 1000:  # as the daemon does: not the bench's own loop stall
                    await asyncio.sleep(0)
                specs = {c.name: c for c in row.device.checks}
                for name, result in row.checks.items():
                    counts = self.counts[f"{row.device.kind}/{name}"]
                    counts["attempted"] += 1
                    spec = specs.get(name)
                    if spec is not None and spec.probe in SAMPLED:
                        self.samples[spec.probe] += 1
                        if result.success and condition(spec, result, row.device):
                            counts["failed sample shows a problem"] += 1
                            continue
                    if result.success:
                        counts["succeeded"] += 1
                    elif result.skipped:
                        counts[f"skipped {result.reason}"] += 1
                    else:
                        counts[f"failed {result.reason}"] += 1
            return results

        runner.sweep = counted  # type: ignore[method-assign]

    def take(self) -> dict[str, Counter[str]]:
        counts, self.counts = self.counts, defaultdict(Counter)
        return counts


def cycle_lines(counts: dict[str, Counter[str]]) -> tuple[list[str], int]:
    """One line per kind/check: attempted, succeeded, failed and skipped by reason."""
    lines, bad = [], 0
    for key in sorted(counts):
        c = counts[key]
        wrong = {k: n for k, n in sorted(c.items()) if k.startswith(("failed", "skipped"))}
        bad += sum(wrong.values())
        extra = "".join(f", {k} {n:,}" for k, n in wrong.items())
        lines.append(f"  {key}: attempted {c['attempted']:,}, succeeded {c['succeeded']:,}"
                     f"{extra}")
    return lines, bad


async def watch(daemon: Daemon, tally: Tally, base: str, cycles: int, lab_pid: int,
                interval: float, pg: PrivateServer | None, samples: list[Sample],
                listened: Counter[str]) -> list[dict[str, float]]:
    """Wait for ``cycles`` complete cycles of every group, printing each; then time scrapes.

    With ``pg``, the server's counters are sampled (off the loop) at each cycle's end
    into ``samples``, the first at the watch's start; ``listened`` counts each group's
    sweeps whose listeners have all run."""
    monitor = daemon.monitor
    pid = os.getpid()
    seen = 0
    stalls = [0.0]  # the longest the loop answered late this cycle (seconds)

    async def gauge_stalls() -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.05)
            stalls[0] = max(stalls[0], loop.time() - before - 0.05)

    gauge = asyncio.create_task(gauge_stalls())
    collections: dict[str, float] = {"started": 0.0, "cpu_started": 0.0, "longest": 0.0,
                                     "total": 0.0, "full": 0}

    def time_collections(phase: str, info: dict[str, int]) -> None:
        """Garbage collection this cycle: CPU of all generations; full ones' count and longest."""
        if phase == "start":
            collections["started"] = time.perf_counter()
            collections["cpu_started"] = time.thread_time()
            return
        took = time.perf_counter() - collections["started"]
        collections["total"] += time.thread_time() - collections["cpu_started"]
        if info.get("generation") == 2:
            collections["full"] += 1
            collections["longest"] = max(collections["longest"], took)

    gc.callbacks.append(time_collections)
    figures: list[dict[str, float]] = []

    async def sample_server() -> None:
        """The server's counters once the cycle's store work is done: a sweep's run is
        counted before its listeners run, and the daemon's listener takes the devices'
        first checks and hands their write to the database thread."""
        assert pg is not None
        for _ in range(600):  # every sweep's listeners done (the bench's is the last)
            if all(listened[key] >= stats.runs for key, stats in monitor.stats.items()):
                break
            await asyncio.sleep(0.05)
        await daemon.duties.record_monitored()  # after any first-check write under way
        await daemon.db.call(_nothing)
        samples.append(await asyncio.to_thread(pg.sample, time.monotonic()))

    wall0, cpu0, lab0 = time.perf_counter(), cpu_of(pid), sum(cpu_of(lab_pid))
    if pg is not None:
        await sample_server()
    deadline = time.monotonic() + (cycles + 1) * interval * 3
    while seen < cycles and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        done = min(stats.runs for stats in monitor.stats.values())
        if done <= seen:
            continue
        seen = done
        wall, lab = time.perf_counter() - wall0, sum(cpu_of(lab_pid)) - lab0
        user, system = (now - then for now, then in zip(cpu_of(pid), cpu0, strict=True))
        cpu = user + system
        groups = ", ".join(
            f"{key} {stats.last_duration:.1f} s" for key, stats in sorted(monitor.stats.items()))
        overruns = sum(stats.overruns for stats in monitor.stats.values())
        lines, bad = cycle_lines(tally.take())
        faults = len(monitor.open_faults())
        print(f"cycle {seen}: {groups} (interval {interval:g} s); daemon CPU {cpu:.1f} s of "
              f"{wall:.1f} s wall = {cpu / wall:.0%} of one core (user {user:.1f} s, system "
              f"{system:.1f} s); lab CPU {lab:.1f} s; "
              f"overruns {overruns}; RSS {rss_mib():.0f} MiB; open faults {faults}; "
              f"failed or skipped checks {bad:,}; longest loop stall {stalls[0]:.2f} s "
              f"(longest full garbage collection {collections['longest']:.2f} s); "
              f"garbage collection CPU {collections['total']:.2f} s in all, "
              f"{collections['full']:.0f} full", flush=True)
        print("\n".join(lines), flush=True)
        if pg is not None:
            await sample_server()
            print(f"  PostgreSQL: {Load.between(samples[-2], samples[-1]).line()}", flush=True)
        by_fault = Counter((f.kind, f.fault) for f in monitor.open_faults())
        for (kind, fault), n in sorted(by_fault.items()):
            example = next(f for f in monitor.open_faults() if (f.kind, f.fault) == (kind, fault))
            print(f"  open fault {kind}/{fault}: {n:,} (e.g. {example.device}: "
                  f"{example.detail[:120]})", flush=True)
        figures.append({"cpu_share": cpu / wall, "system_share": system / wall, "bad": bad,
                        "faults": faults,
                        "overruns": overruns, "rss": rss_mib(),
                        "sweep": max(s.last_duration for s in monitor.stats.values()),
                        "stall": stalls[0], "cpu": cpu, "gc": collections["total"],
                        "gc_full": collections["full"]})
        stalls[0] = collections["longest"] = collections["total"] = collections["full"] = 0.0
        wall0, cpu0, lab0 = time.perf_counter(), cpu_of(pid), sum(cpu_of(lab_pid))
    gauge.cancel()
    gc.callbacks.remove(time_collections)
    if seen < cycles:
        print(f"FAILED: only {seen} of {cycles} cycles completed in time", flush=True)
        figures.append({"bad": 1.0, "faults": 0, "overruns": 0})
    renders = []
    for _ in range(3):
        t0 = time.perf_counter()
        parts = await daemon.exposition.scrape_parts()
        renders.append(time.perf_counter() - t0)
    size, lines_n = sum(map(len, parts)), sum(part.count(b"\n") for part in parts)
    del parts
    print(f"/metrics render (in process, as the handler does): {min(renders):.3f} s best of 3, "
          f"{size / 1e6:.1f} MB, {lines_n:,} lines")
    for gzip in (False, True):
        wall, size = await scrape(base, gzip)
        print(f"/metrics scrape over HTTP ({'gzip' if gzip else 'plain'}): {wall:.2f} s, "
              f"{size / 1e6:.1f} MB")
    return figures


def _nothing(store: Store) -> None:
    """A database-thread call that only waits its turn behind the calls queued before it."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=2)
    parser.add_argument("--interval", type=float, default=INTERVAL, help="seconds per cycle")
    parser.add_argument("--echoes", type=int, default=5, help="ICMP echoes per check")
    parser.add_argument("--engine", choices=ENGINES, default="sqlite",
                        help="the store: a SQLite file, or a PostgreSQL server of the run's own")
    parser.add_argument("--video", type=int, default=0, help="RTSP cameras with a video check")
    parser.add_argument("--onvif", type=int, default=0,
                        help="other RTSP cameras with an onvif_time check")
    parser.add_argument("--video-every", default="30m",
                        help="how often each camera's video (and clock) is sampled")
    args = parser.parse_args()
    cameras = sum(1 for i in range(SNMP, min(args.devices, SNMP + SERVICES))
                  if (i - SNMP) % 10 >= 3)
    if min(args.video, args.onvif) < 0 or args.video + args.onvif > cameras:
        parser.error(f"--video plus --onvif must be 0..{cameras} (the RTSP cameras)")
    os.environ.update(BENCH_SNMP_COMMUNITY="bench-community", BENCH_SNMP_AUTH_KEY="bench-auth-1",
                      BENCH_SNMP_PRIV_KEY="bench-priv-1", BENCH_RTSP_PASSWORD="bench-rtsp-1")
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_inventory(Path(tmp), args.devices, args.interval, args.video, args.onvif,
                               args.video_every)
        rss0 = rss_mib()
        t0 = time.perf_counter()
        transform = partial(with_echoes, echoes=args.echoes)
        inventory = transform(load_inventory(path))
        print(f"inventory: {len(inventory.devices):,} devices loaded in "
              f"{time.perf_counter() - t0:.2f} s, RSS {rss0:.0f} → {rss_mib():.0f} MiB")
        samples: list[Sample] = []
        pg = PrivateServer(PG_HOST) if args.engine == "postgresql" else None
        try:
            db: Target = Path(tmp) / "netwatch.db" if pg is None else pg.url
            print(f"store: {args.engine}, {db}", flush=True)
            t0 = time.perf_counter()
            with LabProcess(path, table=f"netwatch_lab_bench_{os.getpid()}") as lab:
                print(f"lab: ready in {time.perf_counter() - t0:.1f} s (pid {lab.pid})",
                      flush=True)
                figures = run_async(run(inventory, path, db, args.cycles, lab.pid,
                                        args.interval, transform, pg, samples, tally))
            if pg is not None:
                print("PostgreSQL's most frequent statements over the run (pg_stat_statements):")
                print("\n".join(f"  {line}" for line in pg.busiest()), flush=True)
        finally:
            if pg is not None:
                pg.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the daemon process: {peak:.0f} MiB (bar: 1024 MiB)")
    case = f"{args.devices}-devices-{args.echoes}-echoes-{args.interval:g}s-{args.engine}"
    taken: dict[str, int] = {}
    if args.video or args.onvif:
        case += f"-video-{args.video}-onvif-{args.onvif}-every-{args.video_every}"
        taken = {"video_samples": tally.samples["video"],
                 "onvif_samples": tally.samples["onvif_time"]}
        print(f"samples taken over the run: video {taken['video_samples']:,}, onvif_time "
              f"{taken['onvif_samples']:,}")
    code = verdict(figures, peak, case, **taken)
    if len(samples) > 2:  # the steady cycles: from the first cycle's end to the last's
        load, first = Load.between(samples[1], samples[-1]), samples[1] - samples[0]
        print(f"PostgreSQL over the steady cycles ({load.seconds:.0f} s): {load.line()}")
        print_result("daemon_db", case, steady_cycles=len(samples) - 2,
                     statements_per_s=load.statements, transactions_per_s=load.transactions,
                     rows_written_per_s=load.rows_written,
                     rows_returned_per_s=load.rows_returned,
                     rows_scanned_per_s=load.rows_scanned, wal_kib_per_s=load.wal_bytes / 1024,
                     server_cpu_share=load.cpu_share,
                     first_cycle_rows_written=first.written,
                     first_cycle_wal_mib=first.wal_bytes / 2**20)
    sys.exit(code)


def with_echoes(inventory: Inventory, echoes: int) -> Inventory:
    """The inventory with ``echoes`` ICMP echoes per check (the file says 5)."""
    if echoes == 5:
        return inventory

    def check(spec: CheckSpec) -> CheckSpec:
        return replace(spec, params=replace(spec.params, count=echoes)) if spec.probe == "icmp" \
            else spec

    devices = tuple(replace(d, checks=tuple(map(check, d.checks))) for d in inventory.devices)
    return replace(inventory, devices=devices)


def verdict(figures: list[dict[str, float]], peak: float, case: str, **extra: int) -> int:
    """The run's summary line; exit 1 if any check failed or was skipped, or a fault opened.

    The lab is healthy: every failure, skip or fault is a false result of the monitor.
    """
    bad = sum(f["bad"] for f in figures)
    faults = max((f["faults"] for f in figures), default=0)
    overruns = max((f["overruns"] for f in figures), default=0)
    steady = sorted(f["cpu_share"] for f in figures[1:] if "cpu_share" in f)
    cpu = steady[len(steady) // 2] if steady else float("nan")
    kernel = sorted(f["system_share"] for f in figures[1:] if "system_share" in f)
    system = kernel[len(kernel) // 2] if kernel else float("nan")
    per_cycle = {key: _steady_median(figures, key) for key in ("cpu", "gc", "gc_full")}
    sweep = max((f.get("sweep", 0.0) for f in figures), default=0.0)
    stall = max((f.get("stall", 0.0) for f in figures), default=0.0)
    ok = bad == 0 and faults == 0 and overruns == 0
    print_result("daemon", case, "PASS" if ok else "FAIL", cycles=len(figures),
                 false_results=int(bad), open_faults=int(faults), overruns=int(overruns),
                 daemon_cpu_share=cpu, daemon_system_share=system, cpu_s_per_cycle=per_cycle["cpu"],
                 gc_s_per_cycle=per_cycle["gc"], full_gcs_per_cycle=per_cycle["gc_full"],
                 longest_sweep_s=sweep, longest_stall_s=stall, peak_rss_mib=round(peak),
                 **extra)
    return 0 if ok else 1


def _steady_median(figures: list[dict[str, float]], key: str) -> float:
    """The median of ``key`` over the cycles after the first (which includes start-up)."""
    values = sorted(f[key] for f in figures[1:] if key in f)
    return values[len(values) // 2] if values else float("nan")


async def run(inventory: Inventory, path: Path, db: Target, cycles: int, lab_pid: int,
              interval: float, transform: Callable[[Inventory], Inventory],
              pg: PrivateServer | None, samples: list[Sample],
              tally: Tally) -> list[dict[str, float]]:
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[str] = loop.create_future()
    listened: Counter[str] = Counter()

    def on_ready(base: str) -> None:
        tally.wrap(daemon.monitor.runner)  # before the first sweep starts
        daemon.monitor.listeners.append(lambda key, touched: listened.update([key]))
        ready.set_result(base)

    opts = DaemonOptions(
        inventory_path=path, db_path=db, listen=Listen("127.150.0.254", 0),
        allow=AllowList.parse("127.0.0.0/8"), on_ready=on_ready,
        capacity=Capacity.from_env(os.environ), inventory_transform=transform,
    )
    daemon = Daemon(opts, inventory)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    try:
        base = await asyncio.wait_for(ready, 120)
        print(f"daemon: listening on {base}, RSS {rss_mib():.0f} MiB", flush=True)
        for load in daemon.monitor.capacity:
            print(f"load: {load.resource} {load.wanted:,.0f}/s of {load.limit:,.0f}/s")
        return await watch(daemon, tally, base, cycles, lab_pid, interval, pg, samples,
                           listened)
    finally:
        stop.set()
        await task


if __name__ == "__main__":
    main()
