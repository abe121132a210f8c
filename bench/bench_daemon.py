"""The daemon at city scale: ``netwatch run`` over 100,000 devices on loopback targets.

All devices get ICMP (5 echoes); 10,000 of them a service check (7,000 cameras with
RTSP, 3,000 endpoints with SIP); 2,000 trunking sites SNMP (200 of them v3
authPriv). Every group runs at a 60 s interval. The device lab plays the
service devices in a separate process and its CPU is reported apart; ICMP is
answered by the kernel. The daemon runs here, in-process, exactly as ``netwatch
run`` builds it, and serves /metrics on loopback.

Prints, per sweep cycle: each group's sweep duration against the interval, the
daemon's CPU share of the wall time, the lab's CPU; then the peak RSS and the
/metrics render time and size (plain and gzip, as a scrape gets it).
Loopback only (127.150.0.0/15); bounded by ``--cycles``.

    python bench/bench_daemon.py [--devices 100000] [--cycles 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path

import aiohttp

from netwatch.cli.support import run_async
from netwatch.daemon import Daemon, DaemonOptions, Listen
from netwatch.inventory import Inventory, load_inventory
from netwatch.lab.process import LabProcess
from netwatch.monitor import AllowList

SERVICES = 10_000  # devices with a service check besides ICMP
SNMP = 2_000  # trunking sites with SNMP
SNMP_V3 = 200
INTERVAL = 60


def address(i: int) -> str:
    """Device i's loopback address in 127.150.0.0/15 (250 hosts per /24)."""
    block, rest = divmod(i, 250 * 256)
    return f"127.{150 + block}.{rest // 250}.{rest % 250 + 1}"


def write_inventory(folder: Path, n: int) -> Path:
    """The benchmark city: n devices in a CSV file, 8 counties, every interval 60 s."""
    rows = ["id,kind,county,address,name,checks,snmp_profile,uplink_if"]
    for i in range(n):
        if i < SNMP:
            kind, checks = "trunking_site", "icmp;snmp"
            profile = "bench-v3" if i < SNMP_V3 else "bench-v2c"
            uplink = "1"
        elif i < SNMP + SERVICES:
            endpoint = (i - SNMP) % 10 < 3
            kind, checks = ("vc_endpoint", "icmp;sip") if endpoint else ("camera", "icmp;rtsp")
            profile = uplink = ""
        else:
            kind, checks, profile, uplink = "camera", "icmp", "", ""
        rows.append(f"b{i:06d},{kind},c{i % 8},{address(i)},设备{i},{checks},{profile},{uplink}")
    (folder / "devices.csv").write_text("\n".join(rows) + "\n")
    counties = "\n".join(
        f"  - {{id: c{c}, name: 基准县{c}, receiving_unit: 基准县{c}公安局}}" for c in range(8)
    )
    every = f"{{interval: {INTERVAL}s}}"
    (folder / "inventory.yaml").write_text(
        f"""city: {{name: 基准市, timezone: Asia/Shanghai}}
counties:
{counties}
defaults:
  camera: {every}
  vc_endpoint: {every}
  trunking_site: {every}
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


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


async def watch(daemon: Daemon, base: str, cycles: int, lab_pid: int) -> None:
    """Wait for ``cycles`` complete cycles of every group, printing each; then time scrapes."""
    monitor = daemon.monitor
    pid = os.getpid()
    seen = 0
    wall0, cpu0, lab0 = time.perf_counter(), cpu_of(pid), cpu_of(lab_pid)
    deadline = time.monotonic() + (cycles + 1) * INTERVAL * 3
    while seen < cycles and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
        done = min(stats.runs for stats in monitor.stats.values())
        if done <= seen:
            continue
        seen = done
        wall, cpu, lab = time.perf_counter() - wall0, cpu_of(pid) - cpu0, cpu_of(lab_pid) - lab0
        groups = ", ".join(
            f"{key} {stats.last_duration:.1f} s" for key, stats in sorted(monitor.stats.items()))
        overruns = sum(stats.overruns for stats in monitor.stats.values())
        print(f"cycle {seen}: {groups} (interval {INTERVAL} s); daemon CPU {cpu:.1f} s of "
              f"{wall:.1f} s wall = {cpu / wall:.0%} of one core; lab CPU {lab:.1f} s; "
              f"overruns {overruns}; RSS {rss_mib():.0f} MiB; open faults "
              f"{len(monitor.open_faults())}", flush=True)
        wall0, cpu0, lab0 = time.perf_counter(), cpu_of(pid), cpu_of(lab_pid)
    renders = []
    for _ in range(3):
        t0 = time.perf_counter()
        parts = daemon.exposition.render_parts()
        renders.append(time.perf_counter() - t0)
    size, lines = sum(map(len, parts)), sum(part.count(b"\n") for part in parts)
    del parts
    print(f"/metrics render (in process, as the handler does): {min(renders):.3f} s best of 3, "
          f"{size / 1e6:.1f} MB, {lines:,} lines")
    for gzip in (False, True):
        wall, size = await scrape(base, gzip)
        print(f"/metrics scrape over HTTP ({'gzip' if gzip else 'plain'}): {wall:.2f} s, "
              f"{size / 1e6:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()
    os.environ.update(BENCH_SNMP_COMMUNITY="bench-community", BENCH_SNMP_AUTH_KEY="bench-auth-1",
                      BENCH_SNMP_PRIV_KEY="bench-priv-1")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_inventory(Path(tmp), args.devices)
        rss0 = rss_mib()
        t0 = time.perf_counter()
        inventory = load_inventory(path)
        print(f"inventory: {len(inventory.devices):,} devices loaded in "
              f"{time.perf_counter() - t0:.2f} s, RSS {rss0:.0f} → {rss_mib():.0f} MiB")
        t0 = time.perf_counter()
        with LabProcess(path, table="netwatch_lab_bench_daemon") as lab:
            print(f"lab: ready in {time.perf_counter() - t0:.1f} s (pid {lab.pid})", flush=True)
            run_async(run(inventory, path, Path(tmp), args.cycles, lab.pid))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the daemon process: {peak:.0f} MiB (bar: 1024 MiB)")


async def run(inventory: Inventory, path: Path, tmp: Path, cycles: int, lab_pid: int) -> None:
    ready: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    opts = DaemonOptions(
        inventory_path=path, db_path=tmp / "netwatch.db", listen=Listen("127.150.0.254", 0),
        allow=AllowList.parse("127.0.0.0/8"), on_ready=ready.set_result,
    )
    daemon = Daemon(opts, inventory)
    stop = asyncio.Event()
    task = asyncio.create_task(daemon.run(stop))
    try:
        base = await asyncio.wait_for(ready, 120)
        print(f"daemon: listening on {base}, RSS {rss_mib():.0f} MiB", flush=True)
        await watch(daemon, base, cycles, lab_pid)
    finally:
        stop.set()
        await task


if __name__ == "__main__":
    main()
