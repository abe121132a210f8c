"""Coverage analysis at city scale: ``analyse`` over 100,000 readings.

Builds a city of 4 counties, 200 trunking sites and 2,000 coverage points, stores
``--readings`` readings of the last 60 days (60 % at points, 40 % point-less,
spread over the city so they fall in some thousands of cells; 5 % no service),
opens faults on a few sites, then times ``analyse`` (one readings query), the
metric families of its report and the notice candidates (an analysis included).
Prints the figures. No network at all; trunking sites are given loopback addresses
in 127.112.0.0/16.

    python bench/bench_coverage.py [--readings 100000] [--runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from figures import result

from netwatch.coverage.analysis import analyse
from netwatch.coverage.metrics import coverage_families
from netwatch.coverage.notice_items import blind_spot_candidates
from netwatch.inventory import Inventory, load_inventory
from netwatch.store import FaultLog, NewEpisode, Store

COUNTIES = ("c0", "c1", "c2", "c3")
SITES = 200
POINTS = 2_000
NOW = 1_790_000_000.0
DAY = 86400.0
LAT0, LON0, SPAN = 38.0, 105.8, 0.8  # the city: 0.8° square, split into 4 county columns


def write_city(root: Path, rng: random.Random) -> Inventory:
    lines = ["city: {name: Benchville, timezone: Asia/Shanghai}", "counties:"]
    for i, c in enumerate(COUNTIES):
        w = LON0 + i * SPAN / 4
        ring = f"[[{w}, {LAT0}], [{w + SPAN / 4}, {LAT0}], [{w + SPAN / 4}, {LAT0 + SPAN}], " \
               f"[{w}, {LAT0 + SPAN}]]"
        lines.append(f"  - {{id: {c}, name: 县{i}, receiving_unit: 局{i}, boundary: {ring}}}")
    lines.append("devices:")
    for n in range(SITES):
        c = n % 4
        lat, lon = LAT0 + rng.random() * SPAN, LON0 + (c + rng.random()) * SPAN / 4
        lines.append(f"  - {{id: ts-{n}, kind: trunking_site, county: {COUNTIES[c]}, "
                     f"address: 127.112.{n // 250}.{n % 250 + 1}, name: site {n}, "
                     f"lat: {lat:.5f}, lon: {lon:.5f}, checks: [icmp]}}")
    lines.append("coverage_points:")
    for n in range(POINTS):
        c = n % 4
        lat, lon = LAT0 + rng.random() * SPAN, LON0 + (c + rng.random()) * SPAN / 4
        tech = "broadband" if n % 5 == 0 else "pdt"
        lines.append(f"  - {{id: cp-{n}, name: point {n}, county: {COUNTIES[c]}, "
                     f"lat: {lat:.5f}, lon: {lon:.5f}, technology: {tech}, "
                     f"serving_site: ts-{(n * 7) % SITES}, priority: {n % 5 + 1}}}")
    path = root / "bench-coverage.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_inventory(path)


def fill(store: Store, inv: Inventory, count: int, rng: random.Random) -> None:
    points = inv.points
    rows = []
    for n in range(count):
        taken = NOW - rng.random() * 60 * DAY
        no_service = int(rng.random() < 0.05)
        if n % 10 < 6:
            p = points[rng.randrange(len(points))]
            point, county, lat, lon, tech = p.id, p.county, p.lat, p.lon, p.technology
        else:
            c = rng.randrange(4)
            point, county, tech = None, COUNTIES[c], "pdt"
            lat, lon = LAT0 + rng.random() * SPAN, LON0 + (c + rng.random()) * SPAN / 4
        level = rng.gauss(-100, 10)
        rssi = None if tech != "pdt" or no_service else level
        rsrp = None if tech != "broadband" or no_service else level
        sinr = None if tech != "broadband" or no_service else rng.gauss(5, 5)
        rows.append(("bench", f"k{n}", "h", county, point, lat, lon, taken, tech, rssi, None,
                     rsrp, sinr, no_service, f"ts-{rng.randrange(SITES)}", None, "import",
                     taken))
    rows.sort(key=lambda r: r[7])  # stored as they arrive: in the order they were taken
    with store.transaction() as conn:
        conn.executemany(
            "INSERT INTO readings (tester, idem_key, body_hash, county, point, lat, lon, "
            "taken_at, technology, rssi_dbm, ber, rsrp_dbm, sinr_db, no_service, serving_site, "
            "note, source, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)", rows)
    FaultLog(store).apply([NewEpisode(f"ts-{n}", COUNTIES[n % 4], "trunking_site", "unreachable",
                                      NOW - DAY, NOW - DAY, None, "bench") for n in range(10)],
                          [], [])


def timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        inv = write_city(Path(tmp), rng)
        with Store.open(Path(tmp) / "bench.db") as store:
            fill(store, inv, args.readings, rng)
            report = analyse(store, inv, NOW)
            blind = len(report.blind_spots)
            t_analyse = timed(lambda: analyse(store, inv, NOW), args.runs)
            # the families of a scrape, from the report the daemon keeps as its snapshot
            t_metrics = timed(lambda: coverage_families(report, inv), args.runs)
            t_cands = timed(lambda: blind_spot_candidates(store, inv, NOW), args.runs)
    print(f"readings: {args.readings:,} over 60 days ({args.readings // 2:,} or so in the "
          f"30-day window); points: {POINTS:,}; cells surveyed: {len(report.cells):,}; "
          f"blind spots: {blind:,}")
    print(f"analyse:               {t_analyse * 1000:7.1f} ms (median of {args.runs})")
    print(f"coverage_families:     {t_metrics * 1000:7.1f} ms (from the analysed report)")
    print(f"blind_spot_candidates: {t_cands * 1000:7.1f} ms")
    result("coverage", str(args.readings), analyse_ms=t_analyse * 1000,
           families_ms=t_metrics * 1000, candidates_ms=t_cands * 1000)


if __name__ == "__main__":
    main()
