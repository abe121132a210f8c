"""``netwatch notices generate`` and ``netwatch notices list``."""

from __future__ import annotations

import click


@click.group()
def notices() -> None:
    """Rectification notices (整改通知) per county."""
