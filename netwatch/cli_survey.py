"""``netwatch survey import``: bulk readings from a test tool's CSV export."""

from __future__ import annotations

import click


@click.group()
def survey() -> None:
    """Field survey readings."""
