"""Why a place is blind (docs/coverage.md): its serving site is down, its backhaul is down or slow,
or it is a true coverage hole.

The serving site is the point's own ``serving_site``, else the site most of the
readings name, else the nearest trunking site of the county. An open fault
episode of that site (suppressed or not: a site under a failed switch is still
off the air) names the cause; otherwise the place is a ``coverage_hole``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from netwatch.coverage.sites import Site, nearest
from netwatch.store import Handle, open_faults
from netwatch.vocab import BlindCause, Fault

CAUSES: tuple[BlindCause, ...] = tuple(BlindCause)
# a serving site's open fault → the cause it makes, gravest first
FAULT_CAUSE = {Fault.UNREACHABLE: BlindCause.SITE_DOWN, Fault.SERVICE_DOWN: BlindCause.SITE_DOWN,
               Fault.UPLINK_DOWN: BlindCause.UPLINK_DOWN, Fault.UPLINK_SLOW: BlindCause.UPLINK_SLOW}


@dataclass(frozen=True, slots=True)
class Cause:
    kind: BlindCause
    site: str | None  # the serving site judged, None when none is known
    fault: str | None = None  # the site's open fault behind the cause


def open_site_faults(db: Handle) -> dict[str, set[str]]:
    """Per device, the faults of its open episodes that can silence a site."""
    return open_faults(db, tuple(FAULT_CAUSE))


def most_reported(reported: Mapping[str, int]) -> str | None:
    """The site most readings name (ties: the first id), None when none names one."""
    if not reported:
        return None
    return min(reported, key=lambda site: (-reported[site], site))


def serving_site(known: str | None, sites: tuple[Site, ...], county: str, lat: float,
                 lon: float) -> str | None:
    """The site declared or reported, else the nearest trunking site of the county."""
    if known:
        return known
    found = nearest(sites, lat, lon, 1, county)
    return found[0].site.id if found else None


def cause_of(site: str | None, faults: dict[str, set[str]]) -> Cause:
    """The gravest open fault of the site as the cause, else a coverage hole."""
    for fault, kind in FAULT_CAUSE.items():
        if site is not None and fault in faults.get(site, ()):
            return Cause(kind, site, fault)
    return Cause(BlindCause.COVERAGE_HOLE, site)
