"""Sampled checks: the CPU of one ``video`` sample and of one ``onvif_time`` check.

The device lab plays N cameras on 127.170.0.0/16 in its own process (its CPU is reported
apart): each streams synthetic H.264 after PLAY (Digest credentials, as the lab's
cameras are protected) and answers ONVIF ``GetSystemDateAndTime`` on port 80. This
process runs N ``video`` checks (``--sample`` seconds each), then N ``onvif_time``
checks ``--onvif-rounds`` times over, through the monitor's own ``Runner``
(``run_check``: its session cap, its deadlines) with ``--concurrency`` checks at a time
(the video sessions cap is set to it). Per probe: this process's CPU milliseconds per
check (``getrusage`` user + system), wall time, checks per second, the lab's CPU per
check. The lab is healthy: a check that fails, is skipped, or shows its problem as the
monitor judges a sample (no video, no key frame, a frozen stream, a clock off by more
than ``clock_offset``) FAILS the run (exit 1).

    python bench/bench_samples.py [--cameras 500] [--concurrency 32] [--sample 2]
                                  [--onvif-rounds 10]

Loopback only (127.170.x.y); bounded: N checks per probe, each within its deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from figures import result

from netwatch.inventory import CheckSpec, Device, load_inventory
from netwatch.lab.process import LabProcess
from netwatch.monitor import AllowList, Runner
from netwatch.monitor.capacity import Capacity
from netwatch.monitor.sampling import condition
from netwatch.runtime import run_async
from probes.base import ProbeContext
from probes.video import MAX_SAMPLE

PROBES = ("video", "onvif_time")
MAX_CAMERAS = 250 * 256


def address(i: int) -> str:
    """Camera i's loopback address in 127.170.0.0/16 (250 hosts per /24)."""
    return f"127.170.{i // 250}.{i % 250 + 1}"


def write_inventory(folder: Path, n: int, sample: float) -> Path:
    """N cameras whose checks are the camera defaults: a video sample and the ONVIF clock."""
    rows = ["id,kind,county,address,name"]
    rows += [f"s{i:05d},camera,c0,{address(i)},采样{i}" for i in range(n)]
    (folder / "cameras.csv").write_text("\n".join(rows) + "\n")
    (folder / "inventory.yaml").write_text(
        f"""city: {{name: 基准市, timezone: Asia/Shanghai}}
counties:
  - {{id: c0, name: 基准县0, receiving_unit: 基准县0公安局}}
defaults:
  camera:
    checks:
      - {{probe: video, user: bench, password: "${{BENCH_RTSP_PASSWORD}}", sample: {sample:g}s}}
      - onvif_time
device_files:
  - {{path: cameras.csv}}
"""
    )
    return folder / "inventory.yaml"


def own_cpu() -> float:
    """This process's CPU seconds (user + system, all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def lab_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    """One probe's run: checks, wall and CPU seconds (ours, the lab's), outcomes."""

    checks: int
    wall: float
    cpu: float
    lab: float
    outcomes: Counter[str]
    packets: float | None  # video packets per sample, on average

    @property
    def bad(self) -> int:
        return self.checks - self.outcomes["ok"]


async def run_probe(probe: str, devices: list[Device], concurrency: int, lab_pid: int,
                    rounds: int = 1) -> Figures:
    """Every device's check of ``probe`` ``rounds`` times, ``concurrency`` at a time."""
    capacity = Capacity(video_sessions=concurrency)
    jobs: list[tuple[Device, CheckSpec]] = [
        (d, c) for _ in range(rounds) for d in devices for c in d.checks if c.probe == probe]
    outcomes: Counter[str] = Counter()
    packets: list[float] = []
    async with ProbeContext() as ctx:
        runner = Runner(ctx, AllowList.parse("127.0.0.0/8"), capacity=capacity)
        queue = iter(jobs)

        async def worker() -> None:
            for device, check in queue:
                res = await runner.run_check(device, check)
                if res.skipped:
                    outcomes[f"skipped {res.reason}"] += 1
                elif not res.success:
                    outcomes[f"failed {res.reason}"] += 1
                elif condition(check, res, device):
                    outcomes["shows a problem"] += 1
                else:
                    outcomes["ok"] += 1
                if probe == "video":
                    packets.append(res.measurements.get("video_packets", 0.0))

        wall, cpu, lab = time.perf_counter(), own_cpu(), lab_cpu(lab_pid)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - wall, own_cpu() - cpu
        lab = lab_cpu(lab_pid) - lab
    mean = sum(packets) / len(packets) if packets else None
    return Figures(len(jobs), wall, cpu, lab, outcomes, mean)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32,
                        help="checks at a time (the daemon's default video sessions)")
    parser.add_argument("--sample", type=float, default=2.0, help="seconds of video per sample")
    parser.add_argument("--onvif-rounds", type=int, default=10,
                        help="clock reads per camera (one round takes well under a second)")
    args = parser.parse_args()
    if not 1 <= args.cameras <= MAX_CAMERAS:
        parser.error(f"--cameras must be 1..{MAX_CAMERAS}")
    if not 1 <= args.onvif_rounds <= 100:
        parser.error("--onvif-rounds must be 1..100")
    if not 1 <= args.concurrency <= 1000 or not 0 < args.sample <= MAX_SAMPLE:
        parser.error(f"--concurrency must be 1..1000 and --sample above 0, at most {MAX_SAMPLE:g}")
    os.environ["BENCH_RTSP_PASSWORD"] = "bench-rtsp-1"
    table: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_inventory(Path(tmp), args.cameras, args.sample)
        devices = list(load_inventory(path).devices)
        t0 = time.perf_counter()
        with LabProcess(path, table=f"netwatch_lab_samples_{os.getpid()}") as lab:
            print(f"lab: {args.cameras} cameras ready in {time.perf_counter() - t0:.1f} s "
                  f"(pid {lab.pid})", flush=True)
            for probe in PROBES:
                run_async(run_probe(probe, devices[:args.concurrency], args.concurrency,
                                    lab.pid))  # warm-up: imports, first connections
                rounds = 1 if probe == "video" else args.onvif_rounds
                table[probe] = run_async(run_probe(probe, devices, args.concurrency, lab.pid,
                                                   rounds))
    print(f"{args.cameras} cameras, concurrency {args.concurrency}, video sample {args.sample:g} s")
    print(f"{'probe':11} {'checks':>7} {'wall s':>7} {'checks/s':>9} {'CPU ms/check':>13} "
          f"{'lab CPU ms/check':>17}  outcomes")
    for probe, f in table.items():
        print(f"{probe:11} {f.checks:7} {f.wall:7.2f} {f.checks / f.wall:9.1f} "
              f"{f.cpu / f.checks * 1000:13.3f} {f.lab / f.checks * 1000:17.3f}  "
              f"{dict(sorted(f.outcomes.items()))}")
        if f.packets is not None:
            print(f"{'':11} video packets per sample: {f.packets:.1f}")
    for probe, f in table.items():
        extra = {"sample_s": args.sample} if probe == "video" else {}
        result("samples", probe, "FAIL" if f.bad else None, checks=f.checks,
               concurrency=args.concurrency, **extra, cpu_ms_per_check=f.cpu / f.checks * 1000,
               wall_s=f.wall, checks_per_s=f.checks / f.wall,
               lab_cpu_ms_per_check=f.lab / f.checks * 1000, failed=f.bad)
    failed = sum(f.bad for f in table.values())
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
