"""``netwatch coverage plan``: the construction plan of ranked blind spots."""

from __future__ import annotations

import click


@click.group()
def coverage() -> None:
    """Digital-trunking coverage and blind spots."""
