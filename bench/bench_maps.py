"""Map rendering at city scale: 10,000 markers in one county map, SVG and PNG.

A county of 0.5° × 0.4° with a boundary and a hole, ``--points`` markers of the four
blind-spot causes numbered in rank order plus three sites: the crowded case, where the
first 50 keep their numbers and the rest are merged into cells. Times ``render_svg``
(median of ``--runs``) and cairosvg's PNG of the result at 1,800 pixels (the Word
document's picture). Prints the figures; no network, no files.

    python bench/bench_maps.py [--points 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from figures import result

from netwatch.maps import MapSpec, Marker, Region, render_svg, svg_to_png

RING = ((105.8, 38.0), (106.3, 38.0), (106.3, 38.4), (105.8, 38.4), (105.8, 38.0))
HOLE = ((105.9, 38.1), (106.0, 38.1), (106.0, 38.2), (105.9, 38.2), (105.9, 38.1))
KINDS = ("coverage_hole", "site_down", "uplink_down", "uplink_slow")
LEGEND = (("coverage_hole", "覆盖盲区"), ("site_down", "基站故障"), ("uplink_down", "传输中断"),
          ("uplink_slow", "传输降速"), ("site", "最近基站"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(26)
    markers = [Marker(105.81 + rng.random() * 0.48, 38.01 + rng.random() * 0.38, KINDS[i % 4],
                      str(i + 1)) for i in range(args.points)]
    markers += [Marker(105.9 + 0.1 * i, 38.1 + 0.1 * i, "site", f"基站{i}") for i in range(3)]
    spec = MapSpec("县信号盲区分布示意图", (Region(((RING, HOLE),), "县"),), tuple(markers),
                   LEGEND)
    times, svg = [], ""
    for _ in range(args.runs):
        start = time.perf_counter()
        svg = render_svg(spec)
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    png = svg_to_png(svg)
    png_s = time.perf_counter() - start
    svg_ms = statistics.median(times) * 1000
    print(f"markers: {len(markers):,}; SVG {len(svg) / 1024:.0f} KiB, "
          f"PNG {len(png) / 1024:.0f} KiB")
    print(f"render_svg: {svg_ms:8.1f} ms (median of {args.runs})")
    print(f"svg_to_png: {png_s * 1000:8.1f} ms (1,800 px)")
    result("maps", str(args.points), svg_ms=svg_ms, png_ms=png_s * 1000,
           svg_kib=len(svg) / 1024, png_kib=len(png) / 1024)


if __name__ == "__main__":
    main()
