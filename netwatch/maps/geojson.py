"""The county boundaries as GeoJSON, for Grafana's geomap (``netwatch maps boundaries``).

Only the boundaries the inventory gives (inline rings or its boundary file), in
WGS-84 as RFC 7946 wants, with each county's id and name: nothing about devices, so
the file can sit in Grafana's public static folder, which needs no login. A county
without a boundary is left out (its hull would show where devices are).
"""

from __future__ import annotations

import json
from typing import Any

from netwatch.inventory import Inventory


def boundaries_geojson(inventory: Inventory) -> dict[str, Any]:
    """A FeatureCollection with one (Multi)Polygon feature per county that has a boundary."""
    features = []
    for cid in sorted(inventory.counties):
        county = inventory.counties[cid]
        if county.area is None:
            continue
        polygons = [[[list(pos) for pos in ring] for ring in p] for p in county.area.polygons]
        geometry = ({"type": "Polygon", "coordinates": polygons[0]} if len(polygons) == 1
                    else {"type": "MultiPolygon", "coordinates": polygons})
        features.append({"type": "Feature", "id": cid,
                         "properties": {"id": cid, "name": county.name},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def boundaries_text(inventory: Inventory) -> str:
    """``boundaries_geojson`` as UTF-8 JSON text (stable key order)."""
    return json.dumps(boundaries_geojson(inventory), ensure_ascii=False, sort_keys=True) + "\n"
