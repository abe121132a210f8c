"""The early warnings' family: ``netwatch_warning``, one series per warning raised now.

Read from the monitor's ``Trends`` (memory, no store), so a series exists only while its
warning is raised and only on the instance active for the device's county (a standby
judges nothing): no county is ever counted twice. The label is ``warning``, not
``kind``, which means the device kind on every other series.
"""

from __future__ import annotations

from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import Trends

WARNING = FamilySpec(
    "netwatch_warning", "gauge",
    "1 while an early warning (a trend short of a fault: loss or RTT above the device's "
    "baseline, uplink errors growing, reboots, quiet flapping, clock drift) is raised.")


def warning_families(trends: Trends) -> list[Family]:
    """One sample per warning raised, ordered by device then warning."""
    family = Family(WARNING)
    for device, warning, _ in sorted(trends.raised(), key=lambda r: (r[0].id, r[1])):
        family.add(labels((("device", device.id), ("county", device.county),
                           ("warning", warning.value))), 1)
    return [family]
