"""The README's daemon-at-scale table, regenerated from saved ``bench_daemon.py`` outputs.

Each output ends with one ``RESULT`` line (fleet, interval, cycles, false results,
open faults, overruns, median CPU share of the steady cycles, longest sweep, peak
RSS). Runs of the same fleet and interval are grouped; each figure is the median over
the runs, and the table says how many runs it took. Nothing is typed by hand.

    python bench/bench_daemon.py --devices 100000 --cycles 10 > run1.txt   # x3
    python bench/readme_table.py run1.txt run2.txt run3.txt
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from pathlib import Path


def results(paths: list[str]) -> list[dict[str, str]]:
    """Every RESULT line's fields, with the verdict under ``verdict``."""
    found = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.startswith("RESULT "):
                words = line.split()[1:]
                row = dict(w.split("=", 1) for w in words if "=" in w)
                row["verdict"] = words[-1]
                found.append(row)
    return found


def table(rows: list[dict[str, str]]) -> str:
    """Markdown: one line per (devices, interval, echoes), medians over its runs."""
    groups: dict[tuple[int, float, int], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        key = (int(row["devices"]), float(row["interval"]), int(row.get("echoes", "5")))
        groups[key].append(row)
    lines = [
        "| devices | interval | ICMP echoes | runs × cycles | false results (max) "
        "| open faults (max) | daemon CPU, steady cycles (median) | longest sweep (median) "
        "| longest loop stall (median) | peak RSS (median) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (devices, interval, echoes), runs in sorted(groups.items()):
        def med(key: str, runs: list[dict[str, str]] = runs) -> float:
            return statistics.median(float(r[key]) for r in runs)

        verdicts = {r["verdict"] for r in runs}
        lines.append(
            f"| {devices:,} | {interval:g} s | {echoes} | {len(runs)} × {runs[0]['cycles']} "
            f"| {max(int(r['false_results']) for r in runs):,} "
            f"| {max(int(r['open_faults']) for r in runs):,} "
            f"| {med('cpu_median_steady'):.0%} of one core | {med('longest_sweep'):.1f} s "
            f"| {stall(runs)} "
            f"| {med('peak_rss_mib'):.0f} MiB | {'PASS' if verdicts == {'PASS'} else 'FAIL'} |"
        )
    return "\n".join(lines)


def stall(runs: list[dict[str, str]]) -> str:
    """The median of each run's longest event-loop stall (older outputs lack it)."""
    found = [float(r["longest_stall"]) for r in runs if "longest_stall" in r]
    return f"{statistics.median(found):.2f} s" if found else "not recorded"


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(table(results(sys.argv[1:])))


if __name__ == "__main__":
    main()
