"""Shared by the commands: loading the inventory or exiting 2, the event loop, demo secrets."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click

from netwatch.inventory import (
    DEMO_SECRETS,
    Inventory,
    InventoryError,
    demo_inventory_path,
    load_inventory,
    resolve_inventory_path,
)
from netwatch.monitor import AllowList
from netwatch.monitor.capacity import Capacity, CapacityError

T = TypeVar("T")
EXIT_INVALID = 2


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when it is installed: it halves the CPU cost of a service check."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def load_or_exit(path_arg: str | None) -> Inventory:
    """Load the inventory; on problems print one ``FILE:LINE: message`` each and exit 2."""
    path = resolve_inventory_path(path_arg)
    if is_demo_inventory(path):
        use_demo_secrets()
    try:
        return load_inventory(path)
    except InventoryError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{path}: {len(exc.problems)} problem(s); nothing started", err=True)
        sys.exit(EXIT_INVALID)
    except OSError as exc:
        click.echo(f"{path}: cannot read inventory: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_INVALID)


def allow_list_or_exit() -> AllowList:
    try:
        return AllowList.from_env(os.environ)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)


def capacity_or_exit() -> Capacity:
    """The capacity settings (``NETWATCH_*_RATE``, ``NETWATCH_SWEEP_SPREAD``) or exit 2."""
    try:
        return Capacity.from_env(os.environ)
    except CapacityError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_INVALID)


def is_demo_inventory(path: Path) -> bool:
    """The shipped demo city (packaged, or its copy at the repository root)."""
    demo = demo_inventory_path()
    try:
        return path.stat().st_size == demo.stat().st_size and path.read_bytes() == demo.read_bytes()
    except OSError:
        return False


def use_demo_secrets() -> None:
    """The demo's ${ENV} secrets are set by the demo itself unless the user set them."""
    for name, value in DEMO_SECRETS.items():
        os.environ.setdefault(name, value)


def resolve_db_path(arg: str | None) -> Path:
    """The database: the option, else $NETWATCH_DB, else ./netwatch.db (docs/commands.md)."""
    return Path(arg or os.environ.get("NETWATCH_DB") or "netwatch.db")
