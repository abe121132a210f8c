"""ICMP sweep benchmark: netwatch's engine side by side with ``fping -i 0`` on the same targets.

Targets are distinct addresses in 127.200.0.0/14 (the kernel answers ping on all of
127/8); run as root. fping 5.1 keeps at most 65,535 echoes per run, so it gets the
targets in consecutive chunks that fit, and its figures are the sums over the chunks.
Wall seconds, CPU seconds (ours: ``time.process_time``; fping's: RUSAGE_CHILDREN deltas),
our/fping ratios and each tool's median RTT over the sweep (both take the reply's kernel
arrival stamp, so a burst should inflate neither) are printed per case. ``--rate`` is
our engine's pacing for the fping comparison (fping ``-i 0`` does not pace); each 5-echo
case is also run at the engine's default rate, which is what a monitoring cycle gets
(its ratios are to the unpaced fping). Each case runs ``--repeat`` times (default 3),
ours and fping interleaved; the medians, the ratio of the medians, and one ``RESULT``
line per case (machine-readable, with the 1-min load average at the start) are printed.

    python bench/bench_icmp.py                      # 10k and 100k x 1 echo, 100k x 5 echoes
    python bench/bench_icmp.py --targets 20000 --count 5
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from probes import icmp
from probes.base import ProbeContext, Target
from probes.icmp.engine import DEFAULT_RATE, IcmpEngine

FPING_MAX_ECHOES = 65_000
FPING_INTERVAL_MS = 20  # fping -p: the per-target interval, as our Params.interval


@dataclass(frozen=True, slots=True)
class Run:
    """One measured sweep."""

    name: str
    wall: float
    cpu: float
    answered: int
    echoes: int
    rtt_median: float  # seconds, over the answered echoes (per target mean for ours)


def addresses(n: int) -> list[str]:
    """``n`` distinct addresses from 127.200.0.1 on, skipping host bytes 0 and 255."""
    if n > 4 * 256 * 254:
        raise SystemExit("at most 260,096 targets fit in 127.200.0.0/14")
    return [f"127.{200 + i // 64516}.{i // 254 % 254}.{i % 254 + 1}" for i in range(n)]


async def ours(addrs: list[str], count: int, rate: float) -> Run:
    """One probe_batch over all targets through an engine pacing at ``rate``."""
    params = icmp.Params(count=count, interval=FPING_INTERVAL_MS / 1000)
    batch = [Target(a, a, 0, 1.0) for a in addrs]
    async with ProbeContext() as ctx:
        engine = await ctx.resource("icmp", lambda: IcmpEngine.open(rate=rate))
        if engine.error:
            raise SystemExit(engine.error)
        wall, cpu = time.perf_counter(), time.process_time()
        results = await icmp.probe_batch(batch, params, ctx)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    answered = sum(int(r.measurements["received"]) for r in results)
    rtts = [r.measurements["rtt_seconds"] for r in results if "rtt_seconds" in r.measurements]
    return Run(
        f"netwatch (rate {rate:,.0f}/s)", wall, cpu, answered, len(addrs) * count, _median(rtts)
    )


def fping(addrs: list[str], count: int) -> Run:
    """fping -i 0 over the same targets, in chunks of at most FPING_MAX_ECHOES echoes."""
    chunk = max(1, FPING_MAX_ECHOES // count)
    mode = ["-c1"] if count == 1 else [f"-C{count}", f"-p{FPING_INTERVAL_MS}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, rtts = 0.0, []
    with tempfile.TemporaryDirectory() as tmp:
        for start in range(0, len(addrs), chunk):
            path = os.path.join(tmp, "targets")
            with open(path, "w") as fh:
                fh.write("\n".join(addrs[start : start + chunk]) + "\n")
            began = time.perf_counter()
            proc = subprocess.run(
                ["fping", "-i", "0", "-q", *mode, "-f", path], capture_output=True, text=True
            )
            wall += time.perf_counter() - began
            rtts += _fping_rtts(proc.stderr, count)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run("fping -i 0", wall, cpu, len(rtts), len(addrs) * count, _median(rtts))


def _fping_rtts(report: str, count: int) -> list[float]:
    """RTTs (s) of the answered echoes in fping's -q summary (-c: min/avg/max; -C: each)."""
    rtts: list[float] = []
    for line in report.splitlines():
        _, _, tail = line.partition(" : ")
        if count == 1 and "min/avg/max" in tail:
            rtts.append(float(tail.rsplit("=", 1)[1].split("/")[1]) / 1000)
        elif count > 1:
            rtts += [float(word) / 1000 for word in tail.split() if word != "-"]
    return rtts


def _median(values: list[float]) -> float:
    """The median, or NaN when nothing was answered."""
    return statistics.median(values) if values else math.nan


def show(run: Run, base: Run) -> None:
    """Print one run and its ratios to an fping run."""
    print(
        f"  {run.name:<28} wall {run.wall:7.2f} s  cpu {run.cpu:7.2f} s  "
        f"answered {run.answered:>7}/{run.echoes:<7}  "
        f"rtt median {run.rtt_median * 1e3:6.3f} ms  "
        f"wall x{run.wall / base.wall:5.2f}  cpu x{run.cpu / base.cpu:5.2f} of fping"
    )


def summary(case: str, ours_runs: list[Run], fping_runs: list[Run], load: float) -> str:
    """Medians over the repeats, the ratio of medians, and the machine-readable line."""
    cpu, wall = _median([r.cpu for r in ours_runs]), _median([r.wall for r in ours_runs])
    f_cpu, f_wall = _median([r.cpu for r in fping_runs]), _median([r.wall for r in fping_runs])
    print(
        f"  median of {len(ours_runs)} {case}: ours cpu {cpu:.2f} s wall {wall:.2f} s, "
        f"fping cpu {f_cpu:.2f} s wall {f_wall:.2f} s: cpu x{cpu / f_cpu:.2f}  "
        f"wall x{wall / f_wall:.2f} of fping"
    )
    return (
        f"RESULT bench=icmp case={case} runs={len(ours_runs)} ours_cpu={cpu:.3f} "
        f"fping_cpu={f_cpu:.3f} ours_wall={wall:.3f} fping_wall={f_wall:.3f} "
        f"cpu_ratio={cpu / f_cpu:.3f} wall_ratio={wall / f_wall:.3f} load={load:.2f}"
    )


def main() -> None:
    """Run the cases, each ``--repeat`` times interleaved with fping, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--count", type=int, default=1, help="echoes per target")
    parser.add_argument("--rate", type=float, default=1e6, help="our pacing vs fping -i 0")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (medians)")
    parser.add_argument("--no-cycle", action="store_true", help="skip the 100k x 5 case")
    parser.add_argument("--no-paced", action="store_true",
                        help="skip the run at the engine's default rate of multi-echo cases")
    args = parser.parse_args()
    if os.geteuid() != 0 or shutil.which("fping") is None:
        sys.exit("run as root with fping installed (apt-get install fping)")
    if args.repeat < 1:
        sys.exit("--repeat must be at least 1")
    load = os.getloadavg()[0]
    print(f"1-min load average at start: {load:.2f} (machine shared); {args.repeat} run(s) each")
    cases = [(n, args.count) for n in args.targets]
    if not args.no_cycle and (100_000, 5) not in cases:
        cases.append((100_000, 5))
    results: list[str] = []
    for n, count in cases:
        addrs = addresses(n)
        paced = count > 1 and not args.no_paced
        print(f"{n:,} targets x {count} echo(es):")
        unpaced_runs: list[Run] = []
        paced_runs: list[Run] = []
        fping_runs: list[Run] = []
        for _ in range(args.repeat):
            unpaced_runs.append(asyncio.run(ours(addrs, count, args.rate)))
            fping_runs.append(fping(addrs, count))
            show(unpaced_runs[-1], fping_runs[-1])
            show(fping_runs[-1], fping_runs[-1])
            if paced:
                paced_runs.append(asyncio.run(ours(addrs, count, DEFAULT_RATE)))
                show(paced_runs[-1], fping_runs[-1])
        results.append(summary(f"{n}x{count}-unpaced", unpaced_runs, fping_runs, load))
        if paced:
            results.append(summary(f"{n}x{count}-paced", paced_runs, fping_runs, load))
    print("\n".join(results))


if __name__ == "__main__":
    main()
