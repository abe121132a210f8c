"""Mixed sweep benchmark: N lab devices, each with ICMP plus its service check.

The device lab runs as a separate process (its CPU is reported apart). Checks start
as ``netwatch probe`` starts them: no faster than the capacity settings allow
(``NETWATCH_SERVICE_RATE``, ``NETWATCH_SNMP_RATE``, ``NETWATCH_ICMP_RATE``). Prints
devices per second, the sweep's wall time and the monitor's CPU seconds, per
probe and in total. Loopback only (127.220.0.0/16); bounded: one sweep per
round, a fixed number of rounds.

    python bench/bench_sweep.py [--devices 10000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from figures import result

from netwatch.inventory import load_inventory
from netwatch.lab.process import LabProcess
from netwatch.monitor import AllowList, Runner
from netwatch.monitor.capacity import Capacity
from netwatch.runtime import run_async
from probes.base import SKIP_REASONS, ProbeContext

KINDS = (("camera", 0.7), ("vc_endpoint", 0.2), ("trunking_site", 0.1))


def write_inventory(folder: Path, n: int) -> Path:
    """A flat inventory of n devices in 127.220.0.0/16, listed in a CSV file."""
    rows = ["id,kind,county,address,name,snmp_profile,uplink_if"]
    counts = Counter[str]()
    for i in range(n):
        kind = "camera"
        acc = 0.0
        for k, share in KINDS:
            acc += share
            if (i % 100) < acc * 100:
                kind = k
                break
        counts[kind] += 1
        address = f"127.220.{i // 250}.{i % 250 + 1}"
        profile, uplink = ("bench-v2c", "1") if kind == "trunking_site" else ("", "")
        rows.append(f"b{i:06d},{kind},c{i % 8},{address},bench device {i},{profile},{uplink}")
    (folder / "devices.csv").write_text("\n".join(rows) + "\n")
    counties = "\n".join(
        f"  - {{id: c{c}, name: 基准县{c}, receiving_unit: 基准县{c}公安局}}" for c in range(8)
    )
    (folder / "inventory.yaml").write_text(
        f"""city: {{name: 基准市, timezone: Asia/Shanghai}}
counties:
{counties}
snmp_profiles:
  bench-v2c: {{version: 2c, community: "${{BENCH_SNMP_COMMUNITY}}"}}
device_files:
  - {{path: devices.csv}}
"""
    )
    print(f"inventory: {n} devices {dict(counts)}")
    return folder / "inventory.yaml"


def lab_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sweep(devices: list, allow: AllowList) -> tuple[float, float, Counter[str]]:
    capacity = Capacity.from_env(os.environ)  # paced as ``netwatch probe`` paces a sweep
    async with ProbeContext({"icmp": {"rate": capacity.icmp_rate}}) as ctx:
        runner = Runner(ctx, allow, capacity=capacity)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        rows = await runner.sweep(devices)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    outcome = Counter(
        f"{name}:{r.reason}" for row in rows for name, r in row.checks.items()
    )
    return wall, cpu, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["BENCH_SNMP_COMMUNITY"] = "bench-community"
    allow = AllowList.parse("127.0.0.0/8")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_inventory(Path(tmp), args.devices)
        t0 = time.perf_counter()
        inv = load_inventory(path)
        print(f"inventory load: {time.perf_counter() - t0:.2f} s")
        t0 = time.perf_counter()
        with LabProcess(path, table="netwatch_lab_bench") as lab:
            print(f"lab start: {time.perf_counter() - t0:.1f} s (pid {lab.pid})")
            for rnd in range(1, args.rounds + 1):
                lab0 = lab_cpu_seconds(lab.pid)
                wall, cpu, outcome = run_async(sweep(list(inv.devices), allow))
                lab_cpu = lab_cpu_seconds(lab.pid) - lab0
                checks = sum(outcome.values())
                print(
                    f"round {rnd}: {len(inv.devices)} devices, {checks} checks in {wall:.2f} s "
                    f"= {len(inv.devices) / wall:,.0f} devices/s; monitor CPU {cpu:.2f} s "
                    f"({cpu / checks * 1000:.3f} ms/check); lab CPU {lab_cpu:.2f} s"
                )
                print("   outcomes:", dict(sorted(outcome.items())))
            reasons = Counter[str]()
            for key, n in outcome.items():
                reasons[key.rsplit(":", 1)[1]] += n
            skipped = sum(n for reason, n in reasons.items() if reason in SKIP_REASONS)
            failed = sum(reasons.values()) - reasons["ok"] - skipped
    # The last round's figures (every round has its own ProbeContext). The lab is healthy:
    # a failed check, or one the monitor's own limits kept from a verdict, voids the round.
    result("sweep", str(args.devices), "FAIL" if failed or skipped else None, sweep_s=wall,
           devices_per_s=len(inv.devices) / wall, monitor_cpu_ms_per_check=cpu / checks * 1000,
           lab_cpu_s=lab_cpu, failed=failed, skipped=skipped)


if __name__ == "__main__":
    main()
