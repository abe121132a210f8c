"""``netwatch maps boundaries``: the county boundaries as GeoJSON for Grafana's geomap.

Grafana cannot send netwatch's token, so its map does not fetch boundaries from
netwatch: this command writes them (boundaries only: each county's id, name and
outline, nothing about devices) to a file, typically Grafana's public maps folder
(``/usr/share/grafana/public/maps/netwatch-counties.geojson``), which the county
dashboard's boundary layer reads. Run it again after the boundaries change and after
a Grafana upgrade (which replaces that folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from netwatch.cli.support import load_or_exit
from netwatch.maps import boundaries_geojson, boundaries_text

EXIT_FAILED = 1
DEFAULT_OUT = "netwatch-counties.geojson"


@click.group()
def maps() -> None:
    """Maps: the county boundaries for Grafana."""


@maps.command()
@click.argument("inventory", required=False)
@click.option("--out", "out_path", default=DEFAULT_OUT, show_default=True,
              type=click.Path(dir_okay=False),
              help="Where to write the GeoJSON (e.g. Grafana's public/maps folder).")
def boundaries(inventory: str | None, out_path: str) -> None:
    """Write the counties' boundaries as a GeoJSON FeatureCollection (WGS-84)."""
    inv = load_or_exit(inventory)
    text = boundaries_text(inv)
    path = Path(out_path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)  # Grafana's own user reads it
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        click.echo(f"netwatch maps: {out_path}: cannot write: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_FAILED)
    written = {f["id"] for f in boundaries_geojson(inv)["features"]}
    left = sorted(c for c in inv.counties if c not in written)
    line = f"{path}: {len(written)} county boundaries"
    if left:
        line += f"; without a boundary, left out: {', '.join(left)}"
    click.echo(line)
