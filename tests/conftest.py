"""Suite-wide settings: probes may reach loopback only (docs/configuration.md)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before any test imports netwatch code that reads it.
os.environ["NETWATCH_ALLOWED_NETS"] = "127.0.0.0/8"

from netwatch.store import Store, StoreThread  # noqa: E402 - after the environment is set


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A real SQLite store in the test's own directory, closed afterwards."""
    s = Store.open(tmp_path / "netwatch.db")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def db(store: Store) -> Iterator[StoreThread]:
    """The daemon's database thread on the same database as ``store`` (the SQLite file, or
    the PostgreSQL database where a module runs on both engines), closed afterwards."""
    thread = StoreThread.open(store.path)
    try:
        yield thread
    finally:
        thread.close()
