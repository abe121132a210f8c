"""The monthly circular at city scale: what issuing one costs at 100,000 devices.

A month (November 2026) of stored history for ``--devices`` devices in 10 counties
(cameras, a tenth with video and clock checks, plus switches, sites and endpoints):
every device watched from the month's start, ``--outages`` of them down once for 1 to
72 hours, a tenth of the cameras with video without a picture for a while, a city-wide
3-hour gap and one county's own, 20 declared outages of 50 devices each, and the
notice items a morning's sync opens. Then, each timed on its own:

- ``figures``: the month's figures (``month_figures``: every online, video and clock
  ranking, items, blind spots, declared outages, unwatched hours), from the store;
- ``issue``: ``issue_circular`` whole (the figures, the rule, numbering, the record and
  its deliveries in one transaction);
- ``files``: the HTML, PDF, DOCX and XLSX renderings (10 counties: independent of the
  device count).

One ``RESULT`` line per engine: seconds of each phase, the history's rows, and the
process's peak RSS. SQLite in a temporary file; PostgreSQL on a server of this run's
own (``pgload.py``, 127.75.9.2 only). No network.

    python bench/bench_circular.py [--devices 100000] [--outages 5000]
        [--engine sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from figures import result
from pgload import PrivateServer

from netwatch.circulars import issue_circular, month_figures, write_circular_files
from netwatch.inventory import (
    CheckSpec,
    CircularSettings,
    County,
    Device,
    Inventory,
    NoticeSettings,
)
from netwatch.monitor import Actor, Gap, Wanted, declare, record_first_checks, record_gap
from netwatch.notices import sync_items
from netwatch.store import FaultLog, NewEpisode, Store, Target
from netwatch.vocab import Fault, GapReason

COUNTIES = 10
PG_HOST = "127.75.9.2"
HOUR = 3600.0
START = 1_793_462_400.0  # 2026-11-01 00:00 Asia/Shanghai
END = START + 30 * 24 * HOUR
ICMP = CheckSpec("icmp", "icmp", 0, None)
SAMPLED = (ICMP, CheckSpec("video", "video", 554, None),
           CheckSpec("onvif_time", "onvif_time", 80, None))
KINDS = (("switch", 0.02), ("trunking_site", 0.01), ("vc_endpoint", 0.02))


def city(devices: int) -> Inventory:
    counties = {f"c{n:02d}": County(f"c{n:02d}", f"县{n:02d}", f"县{n:02d}公安局")
                for n in range(COUNTIES)}
    out: list[Device] = []
    for i in range(devices):
        county = f"c{i % COUNTIES:02d}"
        kind, share = "camera", (i // COUNTIES) / (devices // COUNTIES)
        for k, part in KINDS:
            if share < part:
                kind = k
                break
            share -= part
        checks = SAMPLED if kind == "camera" and i % 10 == 3 else (ICMP,)
        out.append(Device(id=f"d{i}", kind=kind, county=county, name=f"设备{i}",
                          address=f"127.{40 + i // 65536}.{i // 256 % 256}.{i % 256}",
                          checks=checks, interval=60.0, timeout=1.0, site=f"s{i // 50}",
                          key_area=kind == "camera" and i % 7 == 0, grace_seconds=HOUR))
    settings = NoticeSettings(issuing_unit="示例市公安局", prefix="示公科信",
                              circular=CircularSettings(prefix="示公通"))
    return Inventory(path="bench.yaml", city="示例市", timezone="Asia/Shanghai",
                     counties=counties, devices=tuple(out), notices=settings)


def seed(store: Store, inventory: Inventory, outages: int, rng: random.Random) -> int:
    """The month's history; returns the rows written."""
    record_first_checks(store, [(d.id, START) for d in inventory.devices])
    down = rng.sample(list(inventory.devices), outages)
    video = [d for d in inventory.devices if len(d.checks) > 1]
    episodes = [(d, Fault.UNREACHABLE, START + rng.uniform(0, 28) * 24 * HOUR,
                 rng.uniform(1, 72) * HOUR) for d in down]
    episodes += [(d, Fault.NO_VIDEO, START + rng.uniform(0, 28) * 24 * HOUR,
                  rng.uniform(1, 24) * HOUR) for d in video[::10]]
    log = FaultLog(store)
    opened = log.apply([NewEpisode(d.id, d.county, d.kind, f, at, at + 180, None, "bench")
                        for d, f, at, _ in episodes], [], [])
    still_open = {e.id for e in opened[::20]}  # open at the month's end: items
    log.apply([], [], [(e.id, min(at + hours, END - 60), "recovered")
                       for e, (_, _, at, hours) in zip(opened, episodes, strict=True)
                       if e.id not in still_open])
    with store.transaction() as tx:
        record_gap(tx, Gap(START + 10 * 24 * HOUR, START + 10 * 24 * HOUR + 3 * HOUR,
                           GapReason.DAEMON_DOWN))
        record_gap(tx, Gap(START + 20 * 24 * HOUR, START + 20 * 24 * HOUR + HOUR,
                           GapReason.NO_ACTIVE, "c03"))
    for n in range(20):
        county = f"c{n % COUNTIES:02d}"
        cameras = [d.id for d in inventory.devices if d.county == county and d.kind == "camera"]
        mine = cameras[n // COUNTIES * 50:n // COUNTIES * 50 + 50]
        at = START + (n + 2) * 24 * HOUR
        declare(store, inventory, Wanted(county, {"devices": mine}, at, at + 48 * HOUR,
                                         "roadworks"), Actor("bench", frozenset({county})),
                now=at - HOUR)
    sync_items(store, inventory, END - 15 * HOUR)  # the last morning: 30 Nov 09:00
    return len(inventory.devices) + len(episodes) * 2 + 22


def run(target: Target, engine: str, inventory: Inventory, outages: int, out: Path) -> None:
    rng = random.Random(25)
    with Store.open(target) as store:
        t = time.perf_counter()
        rows = seed(store, inventory, outages, rng)
        seeded = time.perf_counter() - t
        t = time.perf_counter()
        month_figures(store, inventory, START, END, END + HOUR)
        figures_s = time.perf_counter() - t
        t = time.perf_counter()
        issued = issue_circular(store, inventory, "2026-11", END + HOUR)
        issue_s = time.perf_counter() - t
    t = time.perf_counter()
    write_circular_files(issued.record, out / engine)
    files_s = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result("circular", f"issue-{engine}", devices=len(inventory.devices), outages=outages,
           history_rows=rows, seed_s=seeded, figures_s=figures_s, issue_s=issue_s,
           files_s=files_s, peak_rss_mib=peak)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--outages", type=int, default=5_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    inventory = city(args.devices)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if args.engine in ("sqlite", "both"):
            run(out / "netwatch.db", "sqlite", inventory, args.outages, out)
        if args.engine in ("postgresql", "both"):
            pg = PrivateServer(PG_HOST)
            try:
                run(pg.url, "postgresql", inventory, args.outages, out)
            finally:
                pg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
