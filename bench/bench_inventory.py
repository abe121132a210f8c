"""Inventory load time at city scale: 100,000 devices (YAML + CSV), printed, never asserted.

Generates in a temporary directory an inventory of 16 counties with ``--yaml``
devices in the YAML (switches, trunking sites, endpoints) and ``--csv`` cameras in
four CSV files, then loads it ``--runs`` times and prints the best load time,
devices per second, peak RSS and how many distinct check settings were built.
Then, in a fresh process (so its peak RSS is its own), the same for ``--yaml-only``
devices all in the YAML (0 skips it). Addresses are in 127.200.0.0/14; nothing is
sent anywhere.

    python bench/bench_inventory.py [--yaml 2000] [--csv 98000] [--runs 3]
                                    [--yaml-only 100000]
"""

from __future__ import annotations

import argparse
import csv
import gc
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import result

from netwatch.inventory import load_inventory

CASES = {"YAML + CSV": "yaml+csv", "YAML only": "yaml-only"}  # label -> RESULT case
COUNTIES = [f"c{i:02d}" for i in range(16)]
KINDS_IN_YAML = ("switch", "trunking_site", "vc_endpoint")


def address(i: int) -> str:
    return f"127.{200 + i // 65536}.{i // 256 % 256}.{i % 256}"


def generate(directory: Path, n_yaml: int, n_csv: int) -> Path:
    """Write inventory.yaml and cameras-N.csv; return the YAML path."""
    lines = [
        "city: {name: 基准市, timezone: Asia/Shanghai}",
        "coverage: {bbox: {lat_min: 37.0, lat_max: 39.0, lon_min: 105.0, lon_max: 107.0}}",
        "counties:",
        *[f"  - {{id: {c}, name: 县{c}, receiving_unit: 县{c}公安局}}" for c in COUNTIES],
        "snmp_profiles:",
        '  v2: {version: 2c, community: "${BENCH_COMMUNITY}"}',
        "defaults:",
        "  camera: {interval: 60s, thresholds: {rtt: 300ms, loss: 1%}}",
        "device_files:",
        *[f"  - {{path: cameras-{k}.csv}}" for k in range(4)],
        "devices:",
    ]
    for i in range(n_yaml):
        county = COUNTIES[i % 16]
        kind = "switch" if i < 16 * 8 else KINDS_IN_YAML[i % 3]
        extra = ", snmp_profile: v2, uplink_if: 1" if kind != "vc_endpoint" else ""
        parent = f", parent: sw-{i % 16:05d}" if i >= 16 else ""
        lines.append(
            f"  - {{id: {'sw' if kind == 'switch' else 'dev'}-{i:05d}, kind: {kind}, "
            f"county: {county}, address: {address(i)}, name: 设备{i}, lat: 38.{i % 9000:04d}, "
            f"lon: 106.{i % 7000:04d}{parent}{extra}}}"
        )
    path = directory / "inventory.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    per_file = -(-n_csv // 4)
    for k in range(4):
        with open(directory / f"cameras-{k}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["id", "kind", "county", "address", "name", "lat", "lon", "parent",
                        "site", "key_area"])
            for j in range(k * per_file, min(n_csv, (k + 1) * per_file)):
                i = n_yaml + j
                w.writerow([f"cam-{j:06d}", "camera", COUNTIES[j % 16], address(i),
                            f"摄像机{j}号路口卡口", f"38.{j % 9000:04d}", f"106.{j % 7000:04d}",
                            f"sw-{16 + j % 112:05d}", f"派出所{j % 50}", "true" if j % 3 == 0
                            else "false"])
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--yaml", type=int, default=2000, help="devices in the YAML")
    ap.add_argument("--csv", type=int, default=98000, help="cameras in the CSV files")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--yaml-only", type=int, default=100_000,
                    help="devices for the YAML-only run in a child process (0: none)")
    ap.add_argument("--label", default="YAML + CSV", help=argparse.SUPPRESS)
    args = ap.parse_args()
    measure(args.yaml, args.csv, args.runs, args.label)
    if args.yaml_only:
        sys.stdout.flush()
        subprocess.run([sys.executable, __file__, "--yaml", str(args.yaml_only), "--csv", "0",
                        "--runs", str(args.runs), "--yaml-only", "0", "--label", "YAML only"],
                       check=True)


def measure(n_yaml: int, n_csv: int, runs: int, label: str) -> None:
    """Generate, load ``runs`` times, print the figures (``label`` names the run)."""
    print(f"== {label}")
    bar_s, bar_mib = (10, 600) if n_csv == 0 else (5, None)
    with tempfile.TemporaryDirectory(prefix="nw-bench-inv-") as tmp:
        t0 = time.perf_counter()
        path = generate(Path(tmp), n_yaml, n_csv)
        print(f"generated {n_yaml} YAML + {n_csv} CSV devices ({path.stat().st_size / 1e6:.1f}"
              f" MB of YAML) in "
              f"{time.perf_counter() - t0:.2f} s")
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        env = {"BENCH_COMMUNITY": "bench-community"}
        times, cpu = [], []
        inv = None
        for _ in range(runs):
            inv = None
            gc.collect()
            w0, c0 = time.perf_counter(), time.process_time()
            inv = load_inventory(path, env)
            times.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        assert inv is not None
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = len(inv.devices)
        specs = {id(d.checks) for d in inv.devices}
        params = {id(c.params) for d in inv.devices for c in d.checks}
        best = min(times)
        print(f"loaded {n} devices: best {best:.2f} s wall ({min(cpu):.2f} s CPU), "
              f"runs {', '.join(f'{t:.2f}' for t in times)} s; {n / best:,.0f} devices/s")
        print(f"peak RSS {rss / 1024:.0f} MiB (before loading {rss_before / 1024:.0f} MiB); "
              f"{len(specs)} distinct check tuples, {len(params)} distinct Params objects")
        met = best <= bar_s and (bar_mib is None or rss / 1024 <= bar_mib)
        memory = f" and <= {bar_mib} MiB peak RSS" if bar_mib else ""
        print(f"bar: {n:,} devices in <= {bar_s} s{memory} -> {'met' if met else 'NOT met'}")
        result("inventory", CASES.get(label, label.replace(" ", "")), load_s=best,
               cpu_s=min(cpu), devices_per_s=n / best, peak_rss_mib=rss / 1024)


if __name__ == "__main__":
    main()
