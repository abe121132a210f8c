"""A progress bar on stderr for a sweep on demand, when a person watches a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def sweep_progress(total: int) -> Iterator[Callable[[Any], None] | None]:
    """A callback that advances a transient bar of ``total`` devices; None off a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("probing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("devices"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("sweep", total=total)
        yield lambda _: bar.advance(task)
