"""How many early-warning baselines a periodic write takes, hour by hour of a steady city.

``netwatch.monitor.trends`` writes, every ``flush_every`` (5 minutes), only the baselines
that moved since the store last had them (an RTT mean by more than 5 % of itself, a
loss mean by more than a point) or that are 6 hours old there. This replays ``--hours``
of one-minute ICMP cycles for ``--devices`` devices with the default warning settings
(each device its own RTT, 1 to 20 ms, every cycle ±``--jitter`` of it at random, a lost
echo now and then) through the real ``Trend.sample``, and at every flush asks each
device's ``Trend`` whether its row is worth writing, as the daemon does. Per hour: the
rows the flushes of that hour took, as rows per second per 100,000 devices, beside
what writing every row every 5 minutes takes (333 per second per 100,000). No store,
no network: the figure is the rule's. Printed: hours 1, 2, 3, 6, 7 and the last (the
rows that are 6 hours old in the store are written again in the seventh).

    python bench/bench_baselines.py [--devices 10000] [--hours 12] [--jitter 0.3]
"""

from __future__ import annotations

import argparse
import random
import sys

from figures import result

from netwatch.inventory import WarningSettings
from netwatch.monitor.trends import Trend

CYCLE = 60.0
PER = 100_000  # rows per second are given per this many devices
SHOWN = (1, 2, 3, 6, 7)  # the hours printed (and the last): settling, steady, the 6 h rewrite


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--jitter", type=float, default=0.3)
    args = parser.parse_args()
    settings = WarningSettings()
    rng = random.Random(24)
    base = [rng.uniform(0.001, 0.02) for _ in range(args.devices)]
    trends = [Trend() for _ in range(args.devices)]
    per_flush = round(settings.flush_every / CYCLE)
    now = 1_800_000_000.0
    written = 0
    for minute in range(1, args.hours * 60 + 1):
        now += CYCLE
        for rtt, trend in zip(base, trends, strict=True):
            lost = rng.random() < 0.002
            trend.sample(None if lost else rtt * (1 + rng.uniform(-args.jitter, args.jitter)),
                         0.2 if lost else 0.0, now, CYCLE, settings)
        if minute % per_flush == 0:
            for trend in trends:
                if trend.worth_writing():
                    trend.stored = trend.baseline_row()
                    written += 1
        if minute % 60 == 0:
            hour = minute // 60
            if hour not in SHOWN and hour != args.hours:
                written = 0
                continue
            rate = written / 3600.0 * PER / args.devices
            result("baselines", f"hour-{hour:02d}", devices=args.devices, jitter=args.jitter,
                   rows_written=written, rows_per_s_per_100k=rate, every_row_per_s_per_100k=
                   PER / settings.flush_every)
            written = 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
