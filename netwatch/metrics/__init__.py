"""``/metrics``: the Prometheus text exposition of the monitor's state.

``exposition`` keeps the text ready between scrapes; ``devices`` renders the
per-device families from pre-built label sets; ``summary`` the small families
computed at scrape time; ``samples`` the per-county video and clock rates from the
latest samples; ``process`` the process's own figures; ``gaps`` the monitoring gaps'
counters (from the database); ``clock`` whether the host's clock is synchronised
(``netwatch_clock_synchronised``); ``early_warnings`` the early warnings raised now;
``text`` the format itself (escaping, numbers, families), which every package's metrics
provider uses.
"""

from __future__ import annotations

from netwatch.metrics.clock import clock_families
from netwatch.metrics.early_warnings import warning_families
from netwatch.metrics.exposition import Exposition, Provider
from netwatch.metrics.gaps import gap_families
from netwatch.metrics.text import Family, FamilySpec, labels

__all__ = [
    "Exposition", "Family", "FamilySpec", "Provider", "clock_families", "gap_families", "labels",
    "warning_families",
]
