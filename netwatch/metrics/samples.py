"""Per county: how many cameras show video, how many devices keep the right time.

From the latest samples in the monitor's memory (``netwatch.monitor.sampling``), of the
counties this instance is active for: a device counts once it has been sampled in this
run, and is "fine" when its latest sample that said anything showed no problem. Only
the devices with a sampled check are walked.
"""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from netwatch.inventory import Inventory
from netwatch.metrics.text import Family, FamilySpec, labels
from netwatch.monitor import CLOCK, SAMPLED_FAULTS, VIDEO, DeviceState

VIDEO_SAMPLED = FamilySpec(
    "netwatch_video_sampled", "gauge",
    "Cameras of the county whose video was sampled since the monitor started.")
VIDEO_RATIO = FamilySpec(
    "netwatch_video_available_ratio", "gauge",
    "Of the cameras sampled, the share whose latest video sample showed a picture (RTP "
    "arriving, a key frame, timestamps advancing); NaN before any sample.")
CLOCK_CHECKED = FamilySpec(
    "netwatch_clock_checked", "gauge",
    "Devices of the county whose clock (onvif_time) was read since the monitor started.")
CLOCK_RATIO = FamilySpec(
    "netwatch_clock_accurate_ratio", "gauge",
    "Of the devices whose clock was judged, the share within their clock_offset limit; NaN "
    "before any.")


class SampledView(Protocol):
    inventory: Inventory
    states: dict[str, DeviceState]

    @property
    def sampling(self) -> frozenset[str]: ...

    def active(self, county: str) -> bool: ...


def sample_families(monitor: SampledView) -> list[Family]:
    """The four families, one series per county this instance is active for."""
    seen: dict[str, Counter[str]] = {VIDEO: Counter(), CLOCK: Counter()}
    fine: dict[str, Counter[str]] = {VIDEO: Counter(), CLOCK: Counter()}
    for device_id in monitor.sampling:
        state = monitor.states.get(device_id)
        if state is None or not monitor.active(state.device.county):
            continue
        county = state.device.county
        for check in state.device.checks:
            if check.probe not in SAMPLED_FAULTS or check.name not in state.samples:
                continue
            seen[check.probe][county] += 1
            if SAMPLED_FAULTS[check.probe] not in state.conditions:
                fine[check.probe][county] += 1
    out = []
    for probe, (count_spec, ratio_spec) in ((VIDEO, (VIDEO_SAMPLED, VIDEO_RATIO)),
                                            (CLOCK, (CLOCK_CHECKED, CLOCK_RATIO))):
        counts, ratios = Family(count_spec), Family(ratio_spec)
        for county in sorted(c for c in monitor.inventory.counties if monitor.active(c)):
            label = labels((("county", county),))
            sampled = seen[probe][county]
            counts.add(label, sampled)
            ratios.add(label, fine[probe][county] / sampled if sampled else float("nan"))
        out += [counts, ratios]
    return out
