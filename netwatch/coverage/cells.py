"""Point-less readings in square-ish cells: stable ids, centres, and the county of each cell.

A cell is ``cell_size_m`` tall; its width in longitude is set by the cosine at its
row's central latitude, so every cell of a row has the same size in metres and a
reading's cell depends on its own position only: ids (``cell-<lat_idx>-<lon_idx>``)
stay the same from one analysis to the next.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from netwatch.inventory import Inventory

METRES_PER_DEG = 111_320.0


class CellGrid:
    """Cells of one size; each row's longitude step is computed once."""

    __slots__ = ("lat_step", "size_m", "_lon_steps")

    def __init__(self, size_m: float) -> None:
        self.size_m = size_m
        self.lat_step = size_m / METRES_PER_DEG
        self._lon_steps: dict[int, float] = {}

    def lon_step(self, lat_idx: int) -> float:
        step = self._lon_steps.get(lat_idx)
        if step is None:
            centre = (lat_idx + 0.5) * self.lat_step
            shrink = max(math.cos(math.radians(centre)), 1e-6)
            step = self._lon_steps[lat_idx] = self.size_m / (METRES_PER_DEG * shrink)
        return step

    def index(self, lat: float, lon: float) -> tuple[int, int]:
        """The (row, column) of the cell holding a WGS-84 position."""
        lat_idx = math.floor(lat / self.lat_step)
        return lat_idx, math.floor(lon / self.lon_step(lat_idx))

    def centre(self, index: tuple[int, int]) -> tuple[float, float]:
        """The cell's centre (lat, lon), WGS-84, rounded to about a decimetre."""
        lat_idx, lon_idx = index
        return (round((lat_idx + 0.5) * self.lat_step, 6),
                round((lon_idx + 0.5) * self.lon_step(lat_idx), 6))


def cell_id(index: tuple[int, int]) -> str:
    return f"cell-{index[0]}-{index[1]}"


def cell_county(inventory: Inventory, seen: Mapping[str, int], lat: float, lon: float) -> str:
    """The readings' own county when they agree, else the county at the cell's centre.

    ``seen`` counts the readings per county. Without the survey's place lookup, or
    when the centre lies in no county, the county most of the readings have (ties:
    the first in name order).
    """
    if len(seen) == 1:
        return next(iter(seen))
    try:
        from netwatch.survey import county_at
    except ModuleNotFoundError as exc:
        if exc.name != "netwatch.survey.places":
            raise
        found = None
    else:
        found = county_at(inventory, lat, lon)
    if found is not None:
        return found
    return min(seen, key=lambda county: (-seen[county], county))
