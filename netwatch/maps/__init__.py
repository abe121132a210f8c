"""Maps that need nothing from outside (no tiles): county outlines and markers as SVG.

``svg`` is the one renderer: a ``MapSpec`` of regions (county outlines) and markers in
WGS-84, projected by ``frame`` (equirectangular, north up, with its scale bar), drawn
with ``symbols`` (a shape per kind of thing, colour-blind-safe colours, the online-rate
classes), numbered as the tables beside the map, crowded markers merged into cells.
``outlines`` gives a county's outline (its boundary from the inventory, else the padded
hull of its places, and the simplified outline a notice stores); ``raster`` makes the
PNG Word documents need (cairosvg); ``geojson`` exports the boundaries for Grafana.

The construction plan, the notices and the pages build their own ``MapSpec``. The
face is lazy: cairosvg loads when a PNG is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netwatch.runtime import lazy_face

if TYPE_CHECKING:
    from netwatch.maps.frame import Frame
    from netwatch.maps.geojson import boundaries_geojson, boundaries_text
    from netwatch.maps.outlines import (
        CountyOutline,
        convex_hull,
        county_outline,
        for_storage,
        padded_hull,
    )
    from netwatch.maps.raster import svg_to_png
    from netwatch.maps.svg import DISCLAIMER, MapSpec, Marker, Region, render_svg
    from netwatch.maps.symbols import STYLES, rate_colour

_MODULES = {
    "frame": ("Frame",),
    "geojson": ("boundaries_geojson", "boundaries_text"),
    "outlines": ("CountyOutline", "convex_hull", "county_outline", "for_storage", "padded_hull"),
    "raster": ("svg_to_png",),
    "svg": ("DISCLAIMER", "MapSpec", "Marker", "Region", "render_svg"),
    "symbols": ("STYLES", "rate_colour"),
}
__all__ = [
    "DISCLAIMER", "STYLES", "CountyOutline", "Frame", "MapSpec", "Marker", "Region",
    "boundaries_geojson", "boundaries_text", "convex_hull", "county_outline", "for_storage",
    "padded_hull", "rate_colour", "render_svg", "svg_to_png",
]
__getattr__ = lazy_face(__name__, _MODULES)
